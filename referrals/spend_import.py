"""Importing spends from a bank or card CSV export: parse, preview, then save all or nothing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact

from .models import Spend
from .money import MAX_AMOUNT, parse_amount

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
DATE_FORMATS = {
    "iso": ("%Y-%m-%d", "YYYY-MM-DD"),
    "dmy": ("%d/%m/%Y", "DD/MM/YYYY"),
    "mdy": ("%m/%d/%Y", "MM/DD/YYYY"),
}
COLUMN_NAMES = {
    "date": {"date", "transaction date", "posted date", "posting date", "booking date"},
    "payee": {"payee", "description", "merchant", "name", "counterparty", "details"},
    "amount": {"amount", "debit", "value", "amount paid", "sum"},
}


class ImportError_(Exception):
    """The whole file is unusable; the message says why."""


@dataclass
class Row:
    line: int
    day: str = ""
    payee: str = ""
    amount: str = ""
    description: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    rows: list[Row]
    payees: list[str]

    @property
    def error_rows(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    def to_session(self) -> dict:
        return {"rows": [asdict(r) for r in self.rows], "payees": self.payees}

    @classmethod
    def from_session(cls, data: dict) -> Parsed:
        return cls(rows=[Row(**r) for r in data["rows"]], payees=data["payees"])


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise ImportError_(
            "This is not a CSV text file. Export your statement as CSV and try again."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(
            "The file is not UTF-8 text (it looks like another encoding). "
            "Save it as “CSV UTF-8” and upload it again."
        ) from exc


def _find_columns(header: list[str]) -> dict[str, int]:
    normal = [h.strip().lower() for h in header]
    found = {}
    for key, names in COLUMN_NAMES.items():
        for i, h in enumerate(normal):
            if h in names:
                found[key] = i
                break
    missing = [k for k in COLUMN_NAMES if k not in found]
    if missing:
        shown = ", ".join(h for h in header if h.strip()) or "none"
        raise ImportError_(
            f"The file needs the columns date, payee and amount; missing {', '.join(missing)} "
            f"(found: {shown})."
        )
    return found


def parse(upload, date_format: str = "iso") -> Parsed:
    if upload.size == 0:
        raise ImportError_("The file is empty.")
    if upload.size > MAX_BYTES:
        raise ImportError_(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
            "Export a shorter period."
        )
    text = _decode(upload.read())
    if not text.strip():
        raise ImportError_("The file is empty.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportError_("The file has no header row.") from exc
    columns = _find_columns(header)
    fmt, fmt_label = DATE_FORMATS.get(date_format, DATE_FORMATS["iso"])
    rows: list[Row] = []
    try:
        for line, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportError_(
                    f"The file has more than {MAX_ROWS} rows. Export a shorter period."
                )
            rows.append(_parse_row(line, record, columns, fmt, fmt_label))
    except csv.Error as exc:
        raise ImportError_(f"The CSV is malformed near line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise ImportError_("The file has a header but no rows.")
    payees = sorted({r.payee for r in rows if r.payee}, key=str.lower)
    return Parsed(rows=rows, payees=payees)


def _parse_row(
    line: int, record: list[str], columns: dict[str, int], fmt: str, fmt_label: str
) -> Row:
    def cell(key: str) -> str:
        i = columns[key]
        return record[i].strip() if i < len(record) else ""

    row = Row(line=line, payee=cell("payee")[:240], description=cell("payee")[:240])
    raw_date, raw_amount = cell("date"), cell("amount")
    try:
        day = datetime.strptime(raw_date, fmt).date()
        if day > timezone.localdate():
            row.errors.append(f"date {raw_date} is in the future")
        row.day = day.isoformat()
    except ValueError:
        row.errors.append(f"“{raw_date}” is not a date in the {fmt_label} format")
    try:
        amount = abs(parse_amount(raw_amount))
        if amount == 0:
            row.errors.append("the amount is zero")
        elif amount > MAX_AMOUNT:
            row.errors.append(f"the amount {raw_amount} is too large")
        row.amount = str(amount)
    except ValueError:
        row.errors.append(f"“{raw_amount}” is not an amount")
    if not row.payee:
        row.errors.append("the payee is empty")
    return row


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def suggest_matches(owner, payees: list[str], limit: int = 5) -> dict[str, list[Contact]]:
    """Candidate contacts per payee, by shared words in name or company (one query)."""
    contacts = list(
        Contact.objects.for_user(owner).active().only("pk", "name", "company").order_by("name")
    )
    indexed = [(c, _words(f"{c.name} {c.company}")) for c in contacts]
    out = {}
    for payee in payees:
        words = _words(payee)
        scored = sorted(
            ((len(words & cw), c) for c, cw in indexed if words & cw),
            key=lambda pair: (-pair[0], pair[1].name),
        )
        out[payee] = [c for _, c in scored[:limit]]
    return out


@transaction.atomic
def save(owner, parsed: Parsed, mapping: dict[str, Contact | None], currency: str) -> int:
    """Save every mapped row or none; rows whose payee maps to nothing are skipped."""
    if parsed.error_rows:
        raise ImportError_("Some rows have errors; nothing was saved.")
    spends = [
        Spend(
            owner=owner,
            contact=mapping[row.payee],
            spent_on=date.fromisoformat(row.day),
            amount=Decimal(row.amount),
            currency=currency,
            description=row.description,
            imported=True,
        )
        for row in parsed.rows
        if mapping.get(row.payee) is not None
    ]
    Spend.objects.bulk_create(spends)
    # Money spent counts in relationship strength (bulk_create sends no signals).
    from plan import strength

    strength.schedule({s.contact_id for s in spends})
    return len(spends)
