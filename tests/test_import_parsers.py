"""Reading contact files: vCard 2.1/3.0/4.0, Google CSV (both layouts), LinkedIn, other CSV.

The parsers are pure functions (no database); the fixtures under tests/fixtures/imports are
written like the real exports of Android, iPhone, Outlook, Google Contacts and LinkedIn.
"""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest

from portability import parsers
from portability.records import FileRejected, OccasionRecord, Record

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **kwargs):
    data = read(name)
    fmt = parsers.detect_format(data[:65536], name)
    return parsers.parse(data, fmt, **kwargs)


def by_name(parsed) -> dict[str, Record]:
    return {r.name: r for r in parsed.records}


# ---------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("android_contacts.vcf", "vcard"),
        ("iphone_contacts.vcf", "vcard"),
        ("vcard40.vcf", "vcard"),
        ("outlook_cp1252.vcf", "vcard"),
        ("google_contacts.csv", "google"),
        ("google_legacy.csv", "google"),
        ("linkedin_connections.csv", "linkedin"),
        ("outlook_de_semicolon.csv", "csv"),
        ("crm_export.csv", "csv"),
    ],
)
def test_detects_the_format_from_the_content(name, expected):
    assert parsers.detect_format(read(name)[:65536], name) == expected


def test_detects_vcard_after_bom_and_blank_lines_in_any_case():
    assert parsers.detect_format(codecs.BOM_UTF8 + b"\r\n\n  begin:vcard\r\n") == "vcard"


def test_detects_a_referral_crm_archive():
    head = b'{\n  "format": "referral-crm-archive",\n  "version": 1,\n  "contacts": ['
    assert parsers.detect_format(head, "referral-crm-archive.json") == "archive"


def test_other_json_is_rejected():
    with pytest.raises(FileRejected, match="JSON file, but not a Referral CRM archive"):
        parsers.detect_format(b'[{"name": "Ann"}]', "contacts.json")


def test_the_head_may_end_in_the_middle_of_a_character():
    head = "Name,Email\nZoë,zoe@example.com\n".encode()
    assert parsers.detect_format(head[:-19], "x.csv") == "csv"  # cut inside "ë"


@pytest.mark.parametrize("data", [b"", b"  \r\n\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_empty_file_is_rejected(data):
    with pytest.raises(FileRejected, match="The file is empty"):
        parsers.detect_format(data, "contacts.vcf")


def test_png_renamed_vcf_is_rejected_by_detection_and_by_parse():
    data = read("profile_picture.vcf")
    message = (
        "This looks like a PNG image, not a contact file. "
        "Export your contacts as vCard (.vcf) or CSV."
    )
    with pytest.raises(FileRejected) as caught:
        parsers.detect_format(data, "profile_picture.vcf")
    assert str(caught.value) == message
    with pytest.raises(FileRejected, match="PNG image"):
        parsers.parse(data, "vcard")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF document"),
        (b"GIF89a\x01\x00\x01\x00", "GIF image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
    ],
)
def test_other_binary_formats_are_named(data, what):
    with pytest.raises(FileRejected, match=f"looks like a {what}, not a contact file"):
        parsers.detect_format(data, "contacts.csv")


def test_excel_workbook_gets_a_save_as_csv_hint():
    with pytest.raises(FileRejected, match="save or download it as CSV"):
        parsers.detect_format(b"PK\x03\x04\x14\x00\x06\x00", "Contacts.xlsx")


def test_nul_bytes_are_binary():
    with pytest.raises(FileRejected, match="binary data, not text"):
        parsers.detect_format(b"Name,Email\nAnn\x00\x00,ann@example.com\n", "contacts.csv")
    with pytest.raises(FileRejected, match="binary data, not text"):
        parsers.parse(b"BEGIN:VCARD\nFN:A\x00\nEND:VCARD\n", "vcard")


def test_control_characters_are_binary():
    data = bytes(range(1, 9)) * 20 + b"some text"
    with pytest.raises(FileRejected, match="binary data, not text"):
        parsers.detect_format(data, "contacts.csv")


def test_undecodable_text_is_rejected():
    # 0x81 and 0x8d are undefined in Windows-1252 and never valid alone in UTF-8.
    with pytest.raises(FileRejected, match="encoding could not be recognised"):
        parsers.detect_format(b"Name,Email\nJ\x81rgen \x8d,j@example.de\n", "contacts.csv")


def test_broken_utf16_is_rejected():
    data = codecs.BOM_UTF16_LE + "Name,Email\n".encode("utf-16-le") + b"\x00\xd8"
    with pytest.raises(FileRejected, match="UTF-16 text but could not be read"):
        parsers.parse(data, "csv")


# ---------------------------------------------------------------------------- vCard


def test_android_vcard_21_quoted_printable_soft_breaks_and_charsets():
    parsed = parse_fixture("android_contacts.vcf", region="DE")
    assert parsed.format == "vcard"
    assert [r.position for r in parsed.records] == [1, 2, 3, 4]
    juergen, ines, phone_only, karin = parsed.records
    assert juergen.name == "Jürgen Müller"
    assert juergen.company == "Bäckerei Müller GmbH"
    assert juergen.profession == "Master baker"
    # A soft line break (= at line end) joins the words; commas in 2.1 text are kept.
    assert juergen.notes == (
        "Met at the farmers' market, sells sourdough to half of Kreuzberg. "
        "Wants introductions to café owners."
    )
    # +49 151 23456789 and 0151 23456789 are the same number: kept once.
    assert juergen.phones == ["+4915123456789", "+49301234567"]
    assert juergen.emails == ["juergen.mueller@example.de"]
    assert juergen.address == "Oranienstraße 12\nBerlin, 10999\nDeutschland"
    assert juergen.city == "Berlin"
    assert juergen.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=1985)]
    assert juergen.met_how == "Imported from your phone (vCard)"
    assert juergen.errors == juergen.warnings == []
    # CHARSET=ISO-8859-1 quoted-printable.
    assert ines.name == "Inês Gonçalves"
    assert ines.tags == ["Physio", "Lisbon trip"]
    # No name at all: named after the phone number.
    assert phone_only.name == "+4917698765432"
    assert phone_only.errors == []
    # An inline photo whose base64 lines are not indented does not break the card.
    assert karin.name == "Karin Schulz"
    assert karin.emails == ["karin.schulz@example.de"]
    assert karin.errors == []


def test_iphone_vcard_30_item_groups_labels_type_lists_and_folding():
    parsed = parse_fixture("iphone_contacts.vcf", region="US")
    ada, vet, sofia, ken = parsed.records
    assert ada.name == "Adaeze Okafor"
    assert ada.company == "Okafor Financial Planning"
    assert ada.profession == "Certified Financial Planner"
    assert ada.emails == ["ada@okaforplanning.example", "ada.okafor@gmail.example"]
    assert ada.phones == ["+13125550147", "+13125550199"]
    assert ada.website == "https://okaforplanning.example"
    assert ada.address == "233 S Wacker Dr\nSuite 8400\nChicago, IL 60606\nUnited States"
    assert ada.city == "Chicago"
    # A folded line is unfolded; \, and \n are unescaped.
    assert ada.notes == (
        "Met at the Chamber breakfast, March. Serves the same clients as my estate lawyer"
        " — introduce them!\nLikes: cycling, jazz."
    )
    assert ada.tags == ["BNI Downtown", "Referral partners"]
    assert ada.occasions == [
        OccasionRecord(kind="birthday", month=11, day=2, year=1984),
        OccasionRecord(kind="other", month=6, day=9, year=2012, label="Anniversary"),
    ]
    assert ada.warnings == []
    # X-ABShowAs:COMPANY: an organisation, named after ORG; Apple's escaped "http\:".
    assert vet.is_organisation is True
    assert vet.name == vet.company == "Lakeview Veterinary Clinic"
    assert vet.website == "http://www.lakeviewvet.example/"
    assert not ada.is_organisation
    # Apple's "no year" birthday (1604) and a yearless --04-15.
    assert sofia.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=None)]
    assert sofia.warnings == []
    assert ken.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=None)]
    # TYPE=INTERNET,WORK,pref; the same e-mail in another case is kept once.
    assert ken.emails == ["ken@nakamura-law.example"]


def test_vcard_40_kind_org_tel_uri_anniversary_and_text_birthday():
    northside, priya, tom, marisol = parse_fixture("vcard40.vcf", region="US").records
    assert northside.is_organisation is True
    assert northside.name == "Northside Coworking"
    assert northside.phones == ["+15555550100"]
    assert priya.phones == ["+15555550123 ext. 4"]
    assert priya.occasions == [
        OccasionRecord(kind="birthday", month=4, day=15, year=None),
        OccasionRecord(kind="other", month=8, day=8, year=2009, label="Anniversary"),
    ]
    assert tom.occasions == []
    assert tom.phones == ["12"]
    assert tom.emails == []
    assert tom.warnings == [
        "E-mail “tom.becker@” is not a valid address; not imported",
        "Phone “12” is not a valid number; kept as typed",
        "Birthday “circa 1980” is not a date we can read; not imported",
    ]
    assert tom.errors == []
    # No FN: the name is built from N (prefix given family).
    assert marisol.name == "Dr. Marisol Vega"
    assert marisol.warnings == ["Birthday “1979-02-30” is not a date we can read; not imported"]


def test_whole_vcard_file_in_windows_1252():
    francois, bjorn = parse_fixture("outlook_cp1252.vcf").records
    assert francois.name == "François Lefèvre"
    assert francois.company == "Café Zoë"
    assert francois.profession == "Propriétaire"
    assert francois.notes == "Coffee at 2,50 € before 9."
    assert bjorn.name == "Björn Åström"


def test_utf8_vcard_with_one_property_in_iso_8859_1():
    zoe, juergen = parse_fixture("mixed_charsets.vcf").records
    assert zoe.name == "Zoë Adams"
    assert juergen.name == "Jürgen Weiß"


def test_utf16_vcard():
    data = codecs.BOM_UTF16_LE + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë\r\nEND:VCARD\r\n".encode(
        "utf-16-le"
    )
    assert parsers.detect_format(data[:65536]) == "vcard"
    assert [r.name for r in parsers.parse(data, "vcard").records] == ["Zoë"]


def test_half_valid_vcard_reports_the_bad_card_and_reads_the_others():
    alex, jane, sam = parse_fixture("half_valid.vcf").records
    assert alex.name == "Alex Kim" and alex.errors == []
    assert sam.name == "Sam Lee" and sam.phones == ["+14155550188"] and sam.errors == []
    assert jane.position == 2
    assert jane.name == "Jane Roe"
    assert jane.errors == [
        "Card 2 (“Jane Roe”?): could not be read: line 10: "
        "Failed to parse line: that continues without the leading space"
    ]


def test_card_without_end_and_unknown_charset_are_card_errors():
    data = (
        b"BEGIN:VCARD\nVERSION:2.1\nFN:Ann\nN;CHARSET=X-BOGUS;ENCODING=QUOTED-PRINTABLE:=E9\n"
        b"END:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Bo\nEND:VCARD\nBEGIN:VCARD\nFN:Last One\n"
    )
    ann, bo, last = parsers.parse(data, "vcard").records
    assert ann.errors == ["Card 1 (“Ann”?): could not be read: line 4: unknown encoding: X-BOGUS"]
    assert bo.errors == []
    assert last.errors == [
        "Card 3 (“Last One”?): could not be read: the card has no END:VCARD line"
    ]


def test_nul_characters_from_quoted_printable_are_removed():
    data = b"BEGIN:VCARD\nVERSION:2.1\nFN:Ann\nNOTE;ENCODING=QUOTED-PRINTABLE:a=00b\nEND:VCARD\n"
    (ann,) = parsers.parse(data, "vcard").records
    assert ann.notes == "ab"


def test_text_without_cards_is_rejected():
    with pytest.raises(FileRejected, match="No contact cards were found"):
        parsers.parse(b"VERSION:3.0\nFN:Ann\n", "vcard")


def test_google_system_categories_are_dropped_from_vcards():
    data = b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nCATEGORIES:myContacts,starred,Golf\nEND:VCARD\n"
    assert parsers.parse(data, "vcard").records[0].tags == ["Golf"]


def test_a_second_address_and_website_are_reported():
    data = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nADR;TYPE=HOME:;;1 Elm St;Salem;OR;97301;\n"
        b"ADR;TYPE=WORK,pref:;;2 Oak Ave;Eugene;OR;97401;\n"
        b"URL:https://ann.example\nURL:https://blog.ann.example\nEND:VCARD\n"
    )
    (ann,) = parsers.parse(data, "vcard").records
    assert ann.city == "Eugene"  # the preferred address
    assert ann.website == "https://ann.example"
    assert ann.warnings == [
        "Only one address is kept; 1 more not imported",
        "Only one website is kept; “https://blog.ann.example” not imported",
    ]


def test_ten_thousand_cards(capsys):
    card = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Person{0};Test;;;\r\nFN:Test Person{0}\r\n"
        "EMAIL;TYPE=INTERNET:test{0}@example.com\r\nTEL;TYPE=CELL:+1 415 555 {1:04d}\r\n"
        "ORG:Company {0}\r\nNOTE:Met at event {0}\\, said hi\r\nEND:VCARD\r\n"
    )
    data = "".join(card.format(i, i % 10000) for i in range(10_000)).encode()
    started = time.perf_counter()
    parsed = parsers.parse(data, "vcard", max_rows=20_000)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n10,000 vCards parsed in {elapsed:.2f}s")
    assert len(parsed.records) == 10_000
    last = parsed.records[-1]
    assert (last.position, last.name, last.emails) == (
        10_000,
        "Test Person9999",
        ["test9999@example.com"],
    )
    assert last.notes == "Met at event 9999, said hi"
    assert not any(r.errors or r.warnings for r in parsed.records)


# ---------------------------------------------------------------------------- Google


def test_google_contacts_current_layout():
    parsed = parse_fixture("google_contacts.csv", region="US")
    assert parsed.format == "google"
    maria, dev, greenleaf, nobody = parsed.records
    assert maria.position == 2
    assert maria.name == "Maria José Santos"
    assert maria.company == "Santos Realty"
    assert maria.profession == "Broker"
    # " ::: " joins several values in one cell; 415.555.0133 is the same number again.
    assert maria.emails == ["maria@santosrealty.example", "maria.santos@gmail.example"]
    assert maria.phones == ["+14155550133", "+14155550134"]
    assert maria.tags == ["Realtors", "BNI Downtown"]  # "* myContacts", "* starred" dropped
    assert maria.website == "https://santosrealty.example"
    assert maria.address == "500 Market St\nSan Francisco, CA 94105\nUS"
    assert maria.city == "San Francisco"
    assert maria.notes == "Sends me first-time buyers.\nPrefers WhatsApp."
    assert maria.occasions == [
        OccasionRecord(kind="birthday", month=4, day=15, year=1985),
        OccasionRecord(kind="other", month=6, day=12, year=2010, label="Anniversary"),
    ]
    assert maria.met_how == "Imported from Google Contacts"
    assert maria.warnings == maria.errors == []
    # The multi-line notes cell makes Dev's row start on physical line 6.
    assert dev.position == 6
    assert dev.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=None)]
    assert dev.tags == []
    assert greenleaf.name == "Greenleaf Landscaping"
    assert nobody.errors == ["No name, company, e-mail or phone"]


def test_google_contacts_legacy_layout_in_utf16():
    assert read("google_legacy.csv").startswith(codecs.BOM_UTF16_LE)
    olivia, rafael = parse_fixture("google_legacy.csv", region="US").records
    assert olivia.name == "Olivia Chen"
    assert olivia.company == "ChenFit Studio"
    assert olivia.profession == "Owner"
    assert olivia.tags == ["Fitness", "Referral partners"]
    assert olivia.emails == ["olivia@chenfit.example"]
    assert olivia.phones == ["+12065550177"]
    assert olivia.website == "http://www.chenfit.example"
    assert (olivia.address, olivia.city) == ("1200 Pine St", "Seattle")
    assert rafael.name == "Rafael Ortiz"  # from Given Name + Family Name
    assert rafael.phones == ["+12065550190", "+12065550191"]
    assert rafael.occasions == [OccasionRecord(kind="birthday", month=12, day=1, year=None)]


def test_google_file_with_header_only_is_rejected():
    data = read("google_contacts.csv").split(b"\r\n")[0] + b"\r\n"
    with pytest.raises(FileRejected, match="header row but no contacts"):
        parsers.parse(data, "google")


def test_a_file_without_the_chosen_header_is_rejected():
    with pytest.raises(FileRejected, match="does not have the header row of a Google"):
        parsers.parse(read("linkedin_connections.csv"), "google")


# ---------------------------------------------------------------------------- LinkedIn


def test_linkedin_connections_with_notes_above_the_header():
    grace, amara, empty = parse_fixture("linkedin_connections.csv").records
    assert grace.position == 5  # the physical line in the file
    assert grace.name == "Grace Hopper"
    assert grace.company == "Hopper Consulting, LLC"
    assert grace.profession == "Principal"
    assert grace.website == "https://www.linkedin.com/in/grace-hopper-example"
    assert grace.emails == []
    assert grace.met_how == "Imported from LinkedIn, connected 15 Mar 2024"
    assert amara.name == "Amara Nwosu 🌍"
    assert amara.emails == ["amara.nwosu@example.com"]
    assert empty.errors == ["No name, company, e-mail or phone"]


# ---------------------------------------------------------------------------- other CSV


def test_outlook_csv_with_semicolons_in_latin1():
    parsed = parse_fixture("outlook_de_semicolon.csv", region="DE")
    assert parsed.format == "csv"
    assert parsed.columns[1] == "Vorname" and parsed.columns[8] == "Straße geschäftlich"
    assert parsed.column_map == {
        "1": "first_name",
        "3": "last_name",
        "5": "company",
        "7": "profession",
        "8": "address",
        "9": "city",
        "13": "phone",
        "14": "phone",
        "15": "phone",
        "17": "email",
        "19": "email",
        "20": "birthday",
        "21": "tags",
        "22": "notes",
        "23": "website",
    }
    joerg, anke = parsed.records
    assert joerg.name == "Jörg Weißmann"
    assert joerg.company == "Weißmann Steuerberatung"
    assert joerg.phones == ["+492111234567", "+491723456789"]  # the fax is not a phone
    assert joerg.city == "Düsseldorf"
    assert joerg.tags == ["Geschäftlich", "Empfehlungspartner"]
    assert joerg.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=1975)]
    assert joerg.notes == "Kanzlei für Ärzte und Zahnärzte."
    assert anke.emails == ["anke.boehm@example.de", "anke@boehm.example"]
    assert anke.website == "https://www.boehm-yoga.example"
    assert anke.occasions == [OccasionRecord(kind="birthday", month=12, day=1, year=None)]
    assert [r.position for r in parsed.records] == [2, 3]


def test_crm_export_with_bom_crlf_formulas_and_bad_emails():
    data = read("crm_export.csv")
    assert data.startswith(codecs.BOM_UTF8) and b"\r\n" in data
    parsed = parsers.parse(data, "csv", region="US")
    assert parsed.columns[0] == "Full name"  # no BOM left in the first header
    records = {r.position: r for r in parsed.records}
    # Line 3 is blank and skipped; Bea's notes span lines 5-6.
    assert sorted(records) == [2, 4, 5, 7, 8, 9]
    hannah = records[2]
    assert hannah.name == "Hannah Berg"
    assert hannah.phones == ["+15035550142"]
    assert hannah.website == "https://www.bergbooks.example"
    assert hannah.tags == ["Accountants", "BNI"]
    assert hannah.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=1986)]
    assert hannah.met_how == "Imported from a CSV file"
    victor = records[4]
    assert victor.company == '=HYPERLINK("http://evil.example","click")'  # kept as text
    assert victor.notes == "-2+3+cmd|' /C calc'!A0"
    assert victor.warnings == [
        "Company looked like a spreadsheet formula; kept as text",
        "Notes looked like a spreadsheet formula; kept as text",
    ]
    assert victor.errors == []
    bea = records[5]
    assert bea.emails == ["bea.ruiz@example.org"]
    assert bea.notes == "Caters our events.\nAsk about the spring gala."
    assert bea.warnings == [
        "E-mail “bea@@ruiz.example” is not a valid address; not imported",
        "E-mail “not-an-email” is not a valid address; not imported",
        "Phone “12” is not a valid number; kept as typed",
        "Website “acme” is not a valid web address; not imported",
    ]
    assert records[7].errors == ["No name, company, e-mail or phone"]
    assert records[8].name == "nameless@example.net"
    assert records[8].errors == []
    long = records[9]
    assert len(long.company) == 160
    assert long.warnings == [
        "Company was longer than 160 characters; cut short",
        "Birthday “someday” is not a date we can read; not imported",
    ]


def test_phone_numbers_are_not_mistaken_for_formulas():
    data = b"Name,Phone,Notes\n@janedoe,+44 20 7946 0958,- met at the expo\n"
    (jane,) = parsers.parse(data, "csv", region="US").records
    assert jane.phones == ["+442079460958"]
    assert (jane.name, jane.notes) == ("@janedoe", "- met at the expo")
    assert jane.warnings == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter):
    rows = [["Name", "E-mail", "Mobile", "Notes"], ["Ann Lee", "ann@example.com", "", "a, b; c"]]
    text = "\r\n".join(delimiter.join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    (ann,) = parsers.parse(text.encode(), "csv").records
    assert (ann.name, ann.emails) == ("Ann Lee", ["ann@example.com"])


def test_explicit_column_map_wins_over_the_guess():
    data = b"Col A,Col B,Col C\nLee,Ann,ann@example.com\n"
    parsed = parsers.parse(
        data,
        "csv",
        column_map={"0": "last_name", "1": "first_name", "2": "email", "7": "city", "1x": "name"},
    )
    assert parsed.column_map == {"0": "last_name", "1": "first_name", "2": "email"}
    assert parsed.records[0].name == "Ann Lee"
    # Without a map, nothing is guessed from these headers: every row needs mapping.
    guessed = parsers.parse(data, "csv")
    assert guessed.column_map == {}
    assert guessed.records[0].errors == ["No name, company, e-mail or phone"]


def test_csv_header_guesses_a_mapping():
    header, mapping = parsers.csv_header(
        b"\xef\xbb\xbfTitle,First Name,Last Name,Company,Job Title,E-mail Address,"
        b"E-mail Display Name,Business Phone,Business Fax,Mobile Phone,Business City,"
        b"Web Page,Categories,Notes,Birthday,Whatever\r\nMr,Ann,Lee\r\n"
    )
    assert header[0] == "Title" and header[-1] == "Whatever"
    assert mapping == {
        "1": "first_name",
        "2": "last_name",
        "3": "company",
        "4": "profession",  # Outlook's "Title" (Mr/Ms) is left out
        "5": "email",
        "7": "phone",
        "9": "phone",
        "10": "city",
        "11": "website",
        "12": "tags",
        "13": "notes",
        "14": "birthday",
    }
    fields = {name for name, _ in parsers.MAPPABLE_FIELDS}
    assert set(mapping.values()) <= fields
    assert "" in fields


def test_our_own_csv_export_reads_back():
    # The header and cell conventions of portability.exports.csv_chunks: " | " between
    # several values, a ' before anything a spreadsheet would run, UTF-8 with a BOM.
    header = (
        "Name,Company,Profession,E-mails,Phones,Website,Address,City,Stage,"
        "Keep in touch every (days),Tags,Birthday,How we met,Notes,Archived"
    )
    row = (
        "Ann Lee,'=Lee Labs,Coach,ann@lee.example | ann@gmail.example,"
        "'+15035550142 | '+15035550143,https://lee.example,\"1 Elm St\nSalem\",Salem,"
        "Connection,30,Clients | Golf,--04-15,Chamber breakfast,Likes tea,"
    )
    data = codecs.BOM_UTF8 + f"{header}\r\n{row}\r\n".encode()
    parsed = parsers.parse(data, "csv", region="US")
    assert parsed.column_map == {
        "0": "name",
        "1": "company",
        "2": "profession",
        "3": "email",
        "4": "phone",
        "5": "website",
        "6": "address",
        "7": "city",
        "10": "tags",
        "11": "birthday",
        "13": "notes",
    }
    (ann,) = parsed.records
    assert ann.emails == ["ann@lee.example", "ann@gmail.example"]
    assert ann.phones == ["+15035550142", "+15035550143"]
    assert ann.tags == ["Clients", "Golf"]
    assert ann.address == "1 Elm St\nSalem"
    assert ann.company == "=Lee Labs"
    assert ann.warnings == ["Company looked like a spreadsheet formula; kept as text"]
    assert ann.occasions == [OccasionRecord(kind="birthday", month=4, day=15, year=None)]


def test_mappable_fields_cover_the_contact_fields():
    assert [name for name, _ in parsers.MAPPABLE_FIELDS] == [
        "",
        "name",
        "first_name",
        "last_name",
        "company",
        "profession",
        "email",
        "phone",
        "website",
        "address",
        "city",
        "notes",
        "tags",
        "birthday",
    ]


def test_latin1_csv_and_region_for_phones():
    data = "Name;Telefon;Stadt\r\nRené Lévesque;020 7946 0958;Zürich\r\n".encode("latin-1")
    (rene,) = parsers.parse(data, "csv", region="GB").records
    assert rene.name == "René Lévesque"
    assert rene.phones == ["+442079460958"]
    assert rene.city == "Zürich"


def test_lengths_tags_and_websites_are_bounded():
    long_tag = "t" * 45
    data = (
        f"Name,Tags,Website,City\n{'N' * 130},Golf; golf ;{long_tag},"
        f"example.com/{'p' * 200},{'C' * 125}\n"
    ).encode()
    (row,) = parsers.parse(data, "csv").records
    assert len(row.name) == 120 and len(row.city) == 120
    assert row.tags == ["Golf", "t" * 40]
    assert row.website == ""
    assert row.warnings == [
        "City was longer than 120 characters; cut short",
        f"Website “example.com/{'p' * 68}” is not a valid web address; not imported",
        f"Tag “{'t' * 40}…” was longer than 40 characters; cut short",
        "Name was longer than 120 characters; cut short",
    ]


def test_records_travel_as_json():
    parsed = parse_fixture("iphone_contacts.vcf")
    for record in parsed.records:
        again = Record.from_dict(json.loads(json.dumps(record.to_dict())))
        assert again == record


# ---------------------------------------------------------------------------- row limit


def test_too_many_vcards_are_rejected_before_reading_them():
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Person {}\nEND:VCARD\n"
    data = "".join(card.format(i) for i in range(6)).encode()
    with pytest.raises(FileRejected, match="more than 5 contacts; split it"):
        parsers.parse(data, "vcard", max_rows=5)
    assert len(parsers.parse(data, "vcard", max_rows=6).records) == 6


def test_too_many_csv_rows_are_rejected():
    data = read("crm_export.csv")  # 6 rows with content
    with pytest.raises(FileRejected, match="more than 5 contacts; split it"):
        parsers.parse(data, "csv", max_rows=5)
    assert len(parsers.parse(data, "csv", max_rows=6).records) == 6


def test_row_limit_counts_rows_not_lines():
    data = b'Name,Notes\nAnn,"one\ntwo\nthree\nfour"\nBo,\n'
    assert len(parsers.parse(data, "csv", max_rows=2).records) == 2


def test_row_limit_defaults_to_the_setting(settings):
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(FileRejected, match="more than 3 contacts"):
        parse_fixture("android_contacts.vcf")
    with pytest.raises(FileRejected, match="more than 3 contacts"):
        parse_fixture("google_contacts.csv")


# ---------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("1985-04-15", "US", (1985, 4, 15)),
        ("19850415", "US", (1985, 4, 15)),
        ("1985-04-15T00:00:00Z", "US", (1985, 4, 15)),
        ("--0415", "US", (None, 4, 15)),
        ("--04-15", "US", (None, 4, 15)),
        ("--02-29", "US", (None, 2, 29)),
        ("1985/4/5", "US", (1985, 4, 5)),
        ("15.04.1985", "DE", (1985, 4, 15)),
        ("01.12.", "DE", (None, 12, 1)),
        ("04/05/1985", "US", (1985, 4, 5)),
        ("04/05/1985", "GB", (1985, 5, 4)),
        ("15/04/1985", "US", (1985, 4, 15)),
        ("15 Mar 2024", "US", (2024, 3, 15)),
        ("March 15, 1985", "US", (1985, 3, 15)),
        ("15 March", "US", (None, 3, 15)),
        ("circa 1980", "US", None),
        ("1985-02-30", "US", None),
        ("13/13/1985", "US", None),
    ],
)
def test_parse_date(value, region, expected):
    assert parsers.parse_date(value, region) == expected


def test_birthday_year_outside_the_range_is_dropped_with_a_warning():
    data = b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nBDAY:1850-07-04\nEND:VCARD\n"
    (ann,) = parsers.parse(data, "vcard").records
    assert ann.occasions == [OccasionRecord(kind="birthday", month=7, day=4, year=None)]
    assert ann.warnings == ["Birthday: the year 1850 was dropped (kept the day)"]
