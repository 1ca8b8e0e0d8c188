"""Read contact files (vCard, Google Contacts CSV, LinkedIn Connections.csv, other CSV).

Pure functions: bytes in, ``records.Parsed`` out, no database. A problem with the whole
file raises ``FileRejected`` with a message for the user; a problem with one card or row
goes into that record's ``errors`` (it cannot be imported) or ``warnings`` (it is imported,
but something was dropped or changed), and the other records still parse.

vCard lines are read with vobject's line reader (unfolding, quoted-printable, charsets,
parameters); the values are unescaped here, because vobject's text decoding keeps only
what comes before the first unescaped comma, and vCard 2.1 never escapes commas.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from vobject.base import getLogicalLines, textLineToContentLine

from .models import ImportFormat
from .records import FileRejected, OccasionRecord, Parsed, Record

# Field name and label, for the column mapping form of "Other CSV" ("" = ignore).
MAPPABLE_FIELDS: list[tuple[str, str]] = [
    ("", "Ignore this column"),
    ("name", "Full name"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company", "Company"),
    ("profession", "Job title or profession"),
    ("email", "E-mail"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("address", "Address"),
    ("city", "City"),
    ("notes", "Notes"),
    ("tags", "Tags"),
    ("birthday", "Birthday"),
]

# Contact model limits (contacts.models.Contact, Tag, Occasion).
MAX_LENGTHS = {"name": 120, "company": 160, "profession": 120, "city": 120, "met_how": 240}
TAG_MAX = 40
WEBSITE_MAX = 200
OCCASION_LABEL_MAX = 80

MET_HOW = {
    ImportFormat.VCARD: "Imported from your phone (vCard)",
    ImportFormat.GOOGLE: "Imported from Google Contacts",
    ImportFormat.LINKEDIN: "Imported from LinkedIn",
    ImportFormat.CSV: "Imported from a CSV file",
}

LABELS = {
    "name": "Name",
    "company": "Company",
    "profession": "Job title",
    "city": "City",
    "address": "Address",
    "notes": "Notes",
    "tag": "Tag",
}

EXPORT_HINT = "Export your contacts as vCard (.vcf) or CSV."
MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office (.xls/.doc) file"),
]
SPREADSHEET_HINT = (
    "This looks like a spreadsheet workbook, not a CSV file. In your spreadsheet, "
    "save or download it as CSV (UTF-8), then upload that file."
)

VCARD_START = re.compile(r"\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE)
VCARD_END = re.compile(r"\s*END\s*:\s*VCARD\s*$", re.IGNORECASE)
BINARY_PROPERTY = re.compile(r"^(?:[\w-]+\.)?(PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)
BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+\s*$")
ARCHIVE_MARKER = re.compile(rb'"format"\s*:\s*"referral-crm-archive"')
FORMULA = re.compile(r"^(=.|[+\-@]\s*[A-Za-z_][\w.]*\s*\(|[+\-@=].*[|!].*)", re.DOTALL)
GOOGLE_SYSTEM_TAGS = {"mycontacts", "my contacts", "starred"}


# ---------------------------------------------------------------------------- detection


def detect_format(head: bytes, filename: str = "") -> str:
    """The ImportFormat value of a file from its first bytes; FileRejected if unusable."""
    text = _decode(head, final=False, filename=filename)
    stripped = text.lstrip()
    if VCARD_START.match(stripped.split("\n", 1)[0]):
        return ImportFormat.VCARD
    if stripped[:1] in ("{", "["):
        if stripped.startswith("{") and ARCHIVE_MARKER.search(head):
            return ImportFormat.ARCHIVE
        raise FileRejected(
            "This is a JSON file, but not a Referral CRM archive. "
            "Upload an archive exported from Referral CRM, a vCard (.vcf) or a CSV file."
        )
    header = _find_header(stripped)
    if header is not None:
        return header[0]
    return ImportFormat.CSV


def _reject_binary(data: bytes, filename: str = "") -> None:
    body = data.lstrip()
    for magic, what in MAGIC:
        if data.startswith(magic) or body.startswith(magic):
            if what == "a ZIP archive" and filename.lower().endswith((".xlsx", ".numbers", ".ods")):
                raise FileRejected(SPREADSHEET_HINT)
            if what.startswith("an old Microsoft Office"):
                raise FileRejected(SPREADSHEET_HINT)
            raise FileRejected(f"This looks like {what}, not a contact file. {EXPORT_HINT}")
    if b"\x00" in data:
        raise FileRejected(f"This file holds binary data, not text. {EXPORT_HINT}")


def _decode(data: bytes, *, final: bool = True, filename: str = "") -> str:
    """Text of a file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if not data.strip() or data.strip() in (
        codecs.BOM_UTF8,
        codecs.BOM_UTF16_LE,
        codecs.BOM_UTF16_BE,
    ):
        raise FileRejected("The file is empty.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = codecs.getincrementaldecoder("utf-16")().decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"The file says it is UTF-16 text but could not be read as such ({exc.reason}). "
                "Save it again as UTF-8 and upload it again."
            ) from exc
        text = text.replace("\x00", "")
        if not text.strip():
            raise FileRejected("The file is empty.")
        return text
    _reject_binary(data, filename)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                "The file's text encoding could not be recognised (it is not UTF-8, UTF-16 or "
                "Windows-1252/Latin-1). Save it again as UTF-8 and upload it again."
            ) from exc
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f\v\x1a")
    if controls > max(8, len(text[:4096]) // 100):
        raise FileRejected(f"This file holds binary data, not text. {EXPORT_HINT}")
    return text


def _norm_header(cell: str) -> str:
    return re.sub(r"[\W_]+", " ", cell.lower()).strip()


def _is_google(cells: list[str]) -> bool:
    names = {c.strip() for c in cells}
    current = {"First Name", "Last Name"} <= names and bool(
        names & {"E-mail 1 - Value", "Phone 1 - Value", "Labels"}
    )
    legacy = {"Name", "Given Name", "Family Name"} <= names and bool(
        names & {"Group Membership", "E-mail 1 - Value", "Phone 1 - Value"}
    )
    return current or legacy


def _is_linkedin(cells: list[str]) -> bool:
    names = {_norm_header(c) for c in cells}
    return {"first name", "last name", "email address", "company", "position", "connected on"} <= (
        names
    )


def _find_header(text: str) -> tuple[str, int] | None:
    """("google" | "linkedin", index of the header among the first lines) or None."""
    lines = text.splitlines()[:12]
    for index, line in enumerate(lines):
        cells = next(csv.reader([line]), [])
        if _is_google(cells):
            return ImportFormat.GOOGLE, index
        if _is_linkedin(cells):
            return ImportFormat.LINKEDIN, index
    return None


# ---------------------------------------------------------------------------- parse


def parse(
    data: bytes,
    fmt: str,
    *,
    region: str = "US",
    column_map: dict[str, str] | None = None,
    max_rows: int | None = None,
) -> Parsed:
    """Parse a whole file into records; FileRejected when the file as a whole is unusable."""
    if max_rows is None:
        max_rows = settings.IMPORT_MAX_ROWS
    region = (region or "US").upper()
    if fmt == ImportFormat.VCARD:
        return Parsed(format=fmt, records=_parse_vcards(data, region, max_rows))
    if fmt == ImportFormat.ARCHIVE:
        raise FileRejected("A Referral CRM archive is restored by the importer, not parsed here.")
    if fmt not in (ImportFormat.GOOGLE, ImportFormat.LINKEDIN, ImportFormat.CSV):
        raise FileRejected(f"Unknown file format “{fmt}”.")
    text = _decode(data)
    rows = _csv_rows(text, fmt, max_rows)
    header = rows[0][1]
    body = rows[1:]
    if fmt == ImportFormat.GOOGLE:
        return Parsed(format=fmt, records=[_google_record(header, r, p, region) for p, r in body])
    if fmt == ImportFormat.LINKEDIN:
        return Parsed(format=fmt, records=[_linkedin_record(header, r, p, region) for p, r in body])
    mapping = _clean_map(column_map, len(header)) if column_map is not None else guess_map(header)
    records = [_csv_record(mapping, r, p, region) for p, r in body]
    return Parsed(format=fmt, records=records, columns=header, column_map=mapping)


def csv_header(data: bytes) -> tuple[list[str], dict[str, str]]:
    """ "Other CSV": the header row and a guessed {column index: field name} mapping."""
    text = _decode(data)
    header = _csv_rows(text, ImportFormat.CSV, None, header_only=True)[0][1]
    return header, guess_map(header)


# ---------------------------------------------------------------------------- CSV reading


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in ",;\t|"}
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ""
    if not delimiter or counts.get(delimiter, 0) == 0:
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return delimiter


def _csv_rows(
    text: str, fmt: str, max_rows: int | None, *, header_only: bool = False
) -> list[tuple[int, list[str]]]:
    """[(line number, cells)] of the header then every non-blank row below it."""
    skip = 0
    delimiter = ","
    if fmt in (ImportFormat.GOOGLE, ImportFormat.LINKEDIN):
        found = _find_header(text)
        if found is None or found[0] != fmt:
            label = dict(ImportFormat.choices)[fmt]
            raise FileRejected(
                f"This file does not have the header row of a {label} file. "
                "Choose “Detect from the file” or “Other CSV”."
            )
        skip = found[1]
    else:
        delimiter = _sniff_delimiter(text)
    if max_rows is not None and text.count("\n") > max_rows + skip + 1:
        # Cheap count first; quoted notes can span lines, so count real rows only now.
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            total = sum(1 for cells in reader if any(c.strip() for c in cells)) - 1 - skip
        except csv.Error:
            total = max_rows + 1
        if total > max_rows:
            raise FileRejected(
                f"The file has more than {max_rows:,} contacts; split it into files of at "
                f"most {max_rows:,} rows and import them one after the other."
            )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    index = 0
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if index < skip:
                index += 1
                continue
            index += 1
            if not any(c.strip() for c in cells):
                continue  # blank lines: skipped silently
            rows.append((start, [_unquote_cell(c) for c in cells]))
            if header_only:
                break
    except csv.Error as exc:
        raise FileRejected(f"Line {reader.line_num} of the file could not be read: {exc}.") from exc
    if not rows:
        raise FileRejected("The file is empty.")
    rows[0] = (rows[0][0], [c.strip() for c in rows[0][1]])
    if len(rows) == 1 and not header_only:
        raise FileRejected("The file has a header row but no contacts below it.")
    return rows


def _unquote_cell(cell: str) -> str:
    """A cell as typed: our own CSV export (and others) put ' before formula-like text."""
    cell = cell.replace("\x00", "")
    if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return cell[1:]
    return cell


# ---------------------------------------------------------------------------- mapping guess

_GUESSES: list[tuple[str, str]] = [
    ("email", r"(\w+ )?e ?mails?( \d+)?( address| addresses| adresse| value)?( \d+)?( value)?"),
    (
        "phone",
        r"((business|home|work|mobile|primary|other|main|private|company|car|assistant) )?"
        r"(phones?|telephone|tel|mobile|cell|cellphone|cell phone|mobile phone|phone number|"
        r"telefon|mobiltelefon|handy|téléphone|telephone mobile|portable)"
        r"( \d+)?( number| value)?( (geschäftlich|privat|business|home|work|mobile))?( \d+)?",
    ),
    ("name", r"(full |display |contact )?name|contact|kontakt|nom complet|name \d+ value"),
    ("first_name", r"first( name)?|firstname|given( name)?|forename|vorname|prénom|prenom"),
    ("last_name", r"last( name)?|lastname|surname|family( name)?|nachname|nom( de famille)?"),
    (
        "company",
        r"company( name)?|organi[sz]ation( \d+)?( name)?|business( name)?|employer|firm|"
        r"firma|unternehmen|société|societe|entreprise",
    ),
    (
        "profession",
        r"(job )?title|position|role|profession|occupation|category|"
        r"organi[sz]ation( \d+)? title|beruf|fonction",
    ),
    (
        "website",
        r"(web ?site|web ?page|url|home ?page|web|webseite|internet|site web)( \d+)?( value)?",
    ),
    (
        "city",
        r"((business|home|work|other|address \d+) )?(city|town|locality|ort|ville|stadt)"
        r"( (geschäftlich|privat))?",
    ),
    (
        "address",
        r"((business|home|work|other|mailing|postal) )?(street( address)?|address( line)?( \d+)?"
        r"( street| formatted)?|straße|strasse|adresse|rue)( (geschäftlich|privat))?",
    ),
    ("notes", r"notes?|comments?|description|memo|notizen|notiz|bemerkungen|remarques"),
    ("tags", r"tags?|labels?|groups?|group membership|categories|kategorien|catégories"),
    (
        "birthday",
        r"birthday|birth ?date|date of birth|dob|bday|geburtstag|anniversaire|date de naissance",
    ),
]
_GUESS_RE = [(f, re.compile(p)) for f, p in _GUESSES]


def guess_map(header: list[str]) -> dict[str, str]:
    """{column index as str: field name} from common header names (English, German, French)."""
    mapping: dict[str, str] = {}
    for index, cell in enumerate(header):
        key = _norm_header(cell)
        for field_name, pattern in _GUESS_RE:
            if pattern.fullmatch(key):
                mapping[str(index)] = field_name
                break
    # Outlook's "Title" is Mr/Ms when a "Job Title" column exists as well.
    professions = [i for i, f in mapping.items() if f == "profession"]
    if len(professions) > 1:
        for i in professions:
            if _norm_header(header[int(i)]) == "title":
                del mapping[i]
    return mapping


def _clean_map(column_map: dict[str, str], width: int) -> dict[str, str]:
    allowed = {name for name, _ in MAPPABLE_FIELDS if name}
    return {
        str(k): v
        for k, v in column_map.items()
        if v in allowed and str(k).isdecimal() and int(k) < width
    }


# ---------------------------------------------------------------------------- CSV records


def _split(value: str, pattern: str = r"\s*:::\s*") -> list[str]:
    return [part.strip() for part in re.split(pattern, value or "") if part.strip()]


def _google_record(header: list[str], cells: list[str], position: int, region: str) -> Record:
    index = {name: i for i, name in reversed(list(enumerate(header)))}

    def get(name: str) -> str:
        i = index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def numbered(kind: str, part: str) -> list[str]:
        pattern = re.compile(rf"{re.escape(kind)} (\d+) - {re.escape(part)}")
        found = sorted(
            (int(m.group(1)), i) for n, i in index.items() if (m := pattern.fullmatch(n))
        )
        return [cells[i].strip() for _, i in found if i < len(cells)]

    legacy = "Given Name" in index
    if legacy:
        name = get("Name") or _join(get("Given Name"), get("Additional Name"), get("Family Name"))
        company = _first(numbered("Organization", "Name"))
        profession = _first(numbered("Organization", "Title"))
        tag_cell = get("Group Membership")
        label_part = "Type"
    else:
        name = _join(
            get("Name Prefix"), get("First Name"), get("Middle Name"), get("Last Name"),
            get("Name Suffix"),
        )  # fmt: skip
        name = name or get("Nickname") or get("File As")
        company = get("Organization Name")
        profession = get("Organization Title")
        tag_cell = get("Labels")
        label_part = "Label"
    addresses = numbered("Address", "Formatted")
    cities = numbered("Address", "City")
    address = _first(addresses) or _first(numbered("Address", "Street"))
    occasions = [
        (value, label or "Other")
        for label, value in zip(
            numbered("Event", label_part), numbered("Event", "Value"), strict=False
        )
        if value
    ]
    return _make_record(
        position,
        region=region,
        met_how=MET_HOW[ImportFormat.GOOGLE],
        name=name,
        company=company,
        profession=profession,
        emails=[e for cell in numbered("E-mail", "Value") for e in _split(cell)],
        phones=[p for cell in numbered("Phone", "Value") for p in _split(cell)],
        websites=[w for cell in numbered("Website", "Value") for w in _split(cell)],
        address=address,
        city=_first(cities),
        notes=get("Notes"),
        tags=[t for t in _split(tag_cell) if not t.startswith("*")],
        birthday=get("Birthday"),
        occasions=occasions,
    )


def _linkedin_record(header: list[str], cells: list[str], position: int, region: str) -> Record:
    index = {_norm_header(name): i for i, name in reversed(list(enumerate(header)))}

    def get(name: str) -> str:
        i = index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    connected = get("connected on")
    met_how = MET_HOW[ImportFormat.LINKEDIN] + (f", connected {connected}" if connected else "")
    return _make_record(
        position,
        region=region,
        met_how=met_how,
        name=_join(get("first name"), get("last name")),
        company=get("company"),
        profession=get("position"),
        emails=_split(get("email address"), r"[\s,;]+"),
        websites=[get("url")] if get("url") else [],
    )


def _csv_record(mapping: dict[str, str], cells: list[str], position: int, region: str) -> Record:
    values: dict[str, list[str]] = {}
    for key, field_name in mapping.items():
        i = int(key)
        if i < len(cells) and cells[i].strip():
            values.setdefault(field_name, []).append(cells[i].strip())

    def one(field_name: str) -> str:
        return _first(values.get(field_name, []))

    name = _join(*values.get("name", [])) or _join(one("first_name"), one("last_name"))
    return _make_record(
        position,
        region=region,
        met_how=MET_HOW[ImportFormat.CSV],
        name=name,
        company=one("company"),
        profession=one("profession"),
        emails=[e for cell in values.get("email", []) for e in _split(cell, r"\s*:::\s*|[\s,;|]+")],
        phones=[
            p for cell in values.get("phone", []) for p in _split(cell, r"\s*(?::::|[;,|])\s*")
        ],
        websites=values.get("website", []),
        address="\n".join(values.get("address", [])),
        city=one("city"),
        notes="\n\n".join(values.get("notes", [])),
        tags=[t for cell in values.get("tags", []) for t in _split(cell, r"\s*(?::::|[,;|])\s*")],
        birthday=one("birthday"),
    )


# ---------------------------------------------------------------------------- vCard


def _decode_vcard(data: bytes) -> str:
    """vCard text: the whole file as UTF-8 if it is, else line by line (CHARSET or cp1252)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data)
    if not data.strip() or data.strip() == codecs.BOM_UTF8:
        raise FileRejected("The file is empty.")
    _reject_binary(data)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    charset = None
    for line in data.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
            if line[:1] not in (b" ", b"\t"):
                charset = None
            continue
        except UnicodeDecodeError:
            pass
        if line[:1] not in (b" ", b"\t"):
            found = re.search(rb";\s*CHARSET=([\w.:-]+)", line.split(b":", 1)[0], re.IGNORECASE)
            charset = found.group(1).decode("ascii") if found else None
        try:
            out.append(line.decode(charset or "cp1252"))
        except (LookupError, UnicodeDecodeError):
            out.append(line.decode("latin-1"))
    return "".join(out)


def _split_cards(text: str) -> list[tuple[int, list[str]]]:
    """[(line number of BEGIN, lines)] for each BEGIN:VCARD ... END:VCARD, photos left out."""
    cards: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    start = 0
    in_binary = False
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        if VCARD_START.match(line):
            if current is not None:
                cards.append((start, current))  # never closed: reported by the reader
            current, start, in_binary = [line.lstrip()], number, False
            continue
        if current is None:
            continue
        if VCARD_END.match(line):
            current.append(line.lstrip())
            cards.append((start, current))
            current = None
            continue
        # Inline photos, logos, sounds and keys are ignored: drop them before vobject
        # reads the card (vCard 2.1 base64 may go on without indentation up to a blank line).
        if BINARY_PROPERTY.match(line):
            in_binary = True
            continue
        if in_binary:
            if line[:1] in (" ", "\t") or BASE64_LINE.match(line) or not line.strip():
                continue
            in_binary = False
        current.append(line)
    if current is not None:
        cards.append((start, current))
    return cards


def _guess_card_name(lines: list[str]) -> str:
    for prefix in ("FN", "N", "ORG"):
        for line in lines:
            m = re.match(rf"(?:[\w-]+\.)?{prefix}(?:;[^:]*)?:(.*)", line, re.IGNORECASE)
            if m and m.group(1).strip(" ;\r\n"):
                value = m.group(1).strip()
                if prefix == "N":
                    parts = [p for p in _split_structured(value) if p]
                    value = " ".join(parts[1:2] + parts[:1])
                return _unescape(value.split(";")[0] if prefix == "ORG" else value)[:80]
    return ""


def _parse_vcards(data: bytes, region: str, max_rows: int) -> list[Record]:
    text = _decode_vcard(data)
    cards = _split_cards(text)
    if not cards:
        raise FileRejected(
            "No contact cards were found in this file (no BEGIN:VCARD line). " + EXPORT_HINT
        )
    if len(cards) > max_rows:
        raise FileRejected(
            f"The file has more than {max_rows:,} contacts; split it into files of at most "
            f"{max_rows:,} contacts and import them one after the other."
        )
    return [_vcard_record(n, start, lines, region) for n, (start, lines) in enumerate(cards, 1)]


def _vcard_record(position: int, start: int, lines: list[str], region: str) -> Record:
    try:
        props = []
        for logical, number in getLogicalLines(io.StringIO("".join(lines)), True):
            try:
                props.append(textLineToContentLine(logical, number))
            except Exception as exc:  # vobject raises ParseError, LookupError, binascii.Error...
                line = start + (number or 1) - 1
                reason = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
                raise ValueError(f"line {line}: {reason}") from exc
        if not props or props[-1].name != "END":
            raise ValueError("the card has no END:VCARD line")
    except ValueError as exc:
        guess = _guess_card_name(lines)
        label = f"Card {position} (“{guess}”?)" if guess else f"Card {position}"
        return Record(position=position, name=guess, errors=[f"{label}: could not be read: {exc}"])

    by_name: dict[str, list] = {}
    labels: dict[str, str] = {}
    for prop in props:
        by_name.setdefault(prop.name, []).append(prop)
        if prop.name == "X-ABLABEL" and prop.group:
            labels[prop.group.upper()] = _unescape(prop.value)

    def values(name: str) -> list[str]:
        return [p.value for p in by_name.get(name, []) if isinstance(p.value, str)]

    warnings: list[str] = []
    name = _unescape(_first(values("FN")))
    if not name and values("N"):
        family, given, additional, prefix, suffix = (_split_structured(values("N")[0]) + [""] * 5)[
            :5
        ]
        name = _join(prefix, given, additional, family, suffix)
    org = _split_structured(_first(values("ORG")))
    company = org[0] if org else ""
    kind = _first(values("KIND")).strip().lower()
    show_as = _first(values("X-ABSHOWAS")).strip().upper()
    is_organisation = kind == "org" or show_as == "COMPANY"
    if is_organisation and company:
        name = company

    address, city = "", ""
    adrs = by_name.get("ADR", [])
    if adrs:
        preferred = sorted(adrs, key=lambda p: not _is_pref(p))
        parts = (_split_structured(preferred[0].value) + [""] * 7)[:7]
        box, extended, street, locality, region_part, code, country = parts
        city = locality
        place = ", ".join(p for p in (locality, _join(region_part, code)) if p)
        address = "\n".join(p for p in (street, extended, box, place, country) if p)
        if len(adrs) > 1:
            warnings.append(f"Only one address is kept; {len(adrs) - 1} more not imported")

    occasions: list[tuple[str, str]] = []
    for prop in by_name.get("ANNIVERSARY", []) + by_name.get("X-ANNIVERSARY", []):
        occasions.append((prop.value, "Anniversary"))
    for prop in by_name.get("X-ABDATE", []):
        label = labels.get((prop.group or "").upper(), "")
        label = re.sub(r"^_\$!<(.*)>!\$_$", r"\1", label) or "Other"
        occasions.append((prop.value, label))

    tags = [
        tag
        for value in values("CATEGORIES")
        for tag in _split_structured(value, ",")
        if tag.strip().lower() not in GOOGLE_SYSTEM_TAGS
    ]
    phones = [_unescape(p) for p in values("TEL")]
    return _make_record(
        position,
        region=region,
        met_how=MET_HOW[ImportFormat.VCARD],
        name=name,
        company=company,
        profession=_unescape(_first(values("TITLE")) or _first(values("ROLE"))),
        emails=[_unescape(e) for e in values("EMAIL")],
        phones=phones,
        websites=[_unescape(u) for u in values("URL")],
        address=address,
        city=city,
        notes="\n\n".join(_unescape(n).strip() for n in values("NOTE") if n.strip()),
        tags=tags,
        birthday=_unescape(_first(values("BDAY"))),
        occasions=[(_unescape(v), label) for v, label in occasions],
        is_organisation=is_organisation,
        warnings=warnings,
    )


def _is_pref(prop) -> bool:
    types = [t.lower() for v in prop.params.get("TYPE", []) for t in v.split(",")]
    singles = [s.lower() for s in prop.singletonparams]
    return "pref" in types or "pref" in singles or "PREF" in prop.params


def _unescape(value: str) -> str:
    r"""vCard text escapes: \n, \N -> newline; \, \; \: \\ -> the character."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value or "")


def _split_structured(value: str, separator: str = ";") -> list[str]:
    """Split on unescaped separators, then unescape each part (N, ADR, ORG, CATEGORIES)."""
    parts, current, escaped = [], [], False
    for char in value or "":
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(_unescape("".join(current)).strip())
            current = []
        else:
            current.append(char)
    parts.append(_unescape("".join(current)).strip())
    return parts


# ---------------------------------------------------------------------------- one record


def _first(items: Iterable[str]) -> str:
    return next((i for i in items if i and i.strip()), "")


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _make_record(
    position: int,
    *,
    region: str,
    met_how: str,
    name: str = "",
    company: str = "",
    profession: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    websites: Iterable[str] = (),
    address: str = "",
    city: str = "",
    notes: str = "",
    tags: Iterable[str] = (),
    birthday: str = "",
    occasions: Iterable[tuple[str, str]] = (),
    is_organisation: bool = False,
    warnings: list[str] | None = None,
) -> Record:
    """One Record from raw values: cleaned, validated, bounded, with warnings and errors."""
    record = Record(position=position, met_how=met_how[: MAX_LENGTHS["met_how"]])
    record.warnings = list(warnings or [])
    record.is_organisation = is_organisation
    record.company = _text(record, "company", company)
    record.profession = _text(record, "profession", profession)
    record.city = _text(record, "city", city)
    record.address = _text(record, "address", address, multiline=True)
    record.notes = _text(record, "notes", notes, multiline=True)
    record.emails = _emails(record, emails)
    record.phones = _phones(record, phones, region)
    record.website = _website(record, websites)
    record.tags = _tags(record, tags)
    record.occasions = _occasions(record, birthday, occasions, region)
    name = _text(record, "name", name)
    if not name:
        name = record.company or _first(record.emails) or _first(record.phones)
        name = name[: MAX_LENGTHS["name"]]
    record.name = name
    if not (record.name or record.company or record.emails or record.phones):
        record.errors.append("No name, company, e-mail or phone")
    return record


def _text(record: Record, field_name: str, value: str, *, multiline: bool = False) -> str:
    value = (value or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip() if multiline else " ".join(value.split())
    if not value:
        return ""
    label = LABELS.get(field_name, field_name.capitalize())
    if FORMULA.match(value):
        record.warnings.append(f"{label} looked like a spreadsheet formula; kept as text")
    limit = MAX_LENGTHS.get(field_name)
    if limit and len(value) > limit:
        record.warnings.append(f"{label} was longer than {limit} characters; cut short")
        value = value[:limit].rstrip()
    return value


def _emails(record: Record, raw: Iterable[str]) -> list[str]:
    found: list[str] = []
    for value in raw:
        value = (value or "").strip().strip("<>").removeprefix("mailto:").strip()
        if not value:
            continue
        email = value.lower()
        try:
            validate_email(email)
        except ValidationError:
            record.warnings.append(f"E-mail “{value[:80]}” is not a valid address; not imported")
            continue
        if email not in found:
            found.append(email)
    return found


def _phones(record: Record, raw: Iterable[str], region: str) -> list[str]:
    found: list[str] = []
    for value in raw:
        value = " ".join((value or "").replace("\x00", "").split())
        if not value:
            continue
        typed = re.sub(r"^tel:", "", value, flags=re.IGNORECASE)
        phone = ""
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and (
            phonenumbers.is_valid_number(number)
            or (phonenumbers.is_possible_number(number) and len(str(number.national_number)) >= 7)
        ):
            phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if number.extension:
                phone += f" ext. {number.extension}"
        else:
            phone = typed[:40]
            record.warnings.append(f"Phone “{typed[:40]}” is not a valid number; kept as typed")
        if phone not in found:
            found.append(phone)
    return found


_url_validator = URLValidator(schemes=["http", "https"])


def _website(record: Record, raw: Iterable[str]) -> str:
    website = ""
    for value in raw:
        value = (value or "").strip()
        if not value:
            continue
        url = (
            value
            if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE)
            else f"https://{value}"
        )
        try:
            _url_validator(url)
            valid = len(url) <= WEBSITE_MAX
        except ValidationError:
            valid = False
        if not valid:
            record.warnings.append(
                f"Website “{value[:80]}” is not a valid web address; not imported"
            )
        elif not website:
            website = url
        elif url != website:
            record.warnings.append(f"Only one website is kept; “{value[:80]}” not imported")
    return website


def _tags(record: Record, raw: Iterable[str]) -> list[str]:
    tags: list[str] = []
    seen: set[str] = set()
    for value in raw:
        tag = " ".join((value or "").replace("\x00", "").split())
        if not tag:
            continue
        if FORMULA.match(tag):
            record.warnings.append(
                f"Tag “{tag[:40]}” looked like a spreadsheet formula; kept as text"
            )
        if len(tag) > TAG_MAX:
            record.warnings.append(
                f"Tag “{tag[:TAG_MAX]}…” was longer than {TAG_MAX} characters; cut short"
            )
            tag = tag[:TAG_MAX].rstrip()
        if tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return tags


def _occasions(
    record: Record, birthday: str, others: Iterable[tuple[str, str]], region: str
) -> list[OccasionRecord]:
    found: list[OccasionRecord] = []
    items = [("birthday", (birthday or "").strip(), "")]
    items += [("other", (value or "").strip(), label) for value, label in others]
    for kind, value, label in items:
        if not value:
            continue
        what = "Birthday" if kind == "birthday" else (label or "Date")
        parsed = parse_date(value, region)
        if parsed is None:
            record.warnings.append(f"{what} “{value[:40]}” is not a date we can read; not imported")
            continue
        year, month, day = parsed
        if year is not None and not 1900 <= year <= 2100:
            if year not in (0, 1604):  # 1604: Apple's "no year"
                record.warnings.append(f"{what}: the year {year} was dropped (kept the day)")
            year = None
        if kind == "birthday":
            occasion = OccasionRecord(kind="birthday", month=month, day=day, year=year)
        else:
            occasion = OccasionRecord(
                kind="other", month=month, day=day, year=year, label=label[:OCCASION_LABEL_MAX]
            )
        if occasion not in found:
            found.append(occasion)
    return found


_MONTH_FORMATS = [
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b",
    "%d %B",
    "%b %d",
    "%B %d",
]
MONTH_FIRST_REGIONS = {"US", "CA", "PH", "FM", "MH", "PW", "GU", "AS", "MP", "VI", "PR", "UM"}


def parse_date(value: str, region: str = "US") -> tuple[int | None, int, int] | None:
    """(year or None, month, day) from the date forms found in contact files, else None.

    ISO 1985-04-15, 19850415, 1985-04-15T00:00:00Z, yearless --04-15 and --0415, 1985/04/15,
    15.04.1985, 04/15/1985 (day or month first by region when ambiguous), 15 Mar 1985,
    March 15, 1985, 15 March.
    """
    s = value.strip()
    year: int | None
    if m := re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?", s):
        year, month, day = (int(g) for g in m.groups())
    elif m := re.fullmatch(r"--(\d{2})-?(\d{2})", s):
        year, month, day = None, int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", s):
        year, month, day = (int(g) for g in m.groups())
    elif m := re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}))?", s):
        day, month = int(m.group(1)), int(m.group(2))
        year = int(m.group(3)) if m.group(3) else None
    elif m := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?", s):
        a, b = int(m.group(1)), int(m.group(2))
        month_first = region.upper() in MONTH_FIRST_REGIONS
        if a > 12 or (b <= 12 and not month_first):
            day, month = a, b
        else:
            month, day = a, b
        year = None
        if m.group(3):
            year = int(m.group(3))
            if year < 100:
                year += 2000 if year <= date.today().year % 100 else 1900
    else:
        cleaned = re.sub(r"[,\s]+", " ", s).strip()
        for fmt in _MONTH_FORMATS:
            with_year = "%Y" in fmt
            try:
                parsed = datetime.strptime(
                    cleaned if with_year else f"{cleaned} 2000", fmt if with_year else f"{fmt} %Y"
                )
            except ValueError:
                continue
            year = parsed.year if with_year else None
            month, day = parsed.month, parsed.day
            break
        else:
            return None
    try:
        date(year if year and 1 <= year <= 9999 else 2000, month, day)
    except ValueError:
        return None
    return year, month, day
