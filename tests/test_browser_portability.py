"""A networker's first and last day, in Chromium on a phone: bring the phone's contacts in,
see duplicates flagged, confirm, merge two contacts, export everything, delete the account."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from contacts.models import Contact
from portability.models import MergeRecord
from tests.conftest import PASSWORD, login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_VCF = b"""BEGIN:VCARD
VERSION:2.1
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Roe;Jane;;;
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Jane Roe
ORG:Roe Staging
EMAIL;HOME:jane@roestaging.com
TEL;CELL:(415) 555-0101
END:VCARD
BEGIN:VCARD
VERSION:2.1
FN:Nina New
ORG:Fresh Bakery
EMAIL;HOME:nina@fresh.example
NOTE;ENCODING=QUOTED-PRINTABLE:Makes wedding cakes; wants caterers=0D=0A=
and florists
END:VCARD
BEGIN:VCARD
VERSION:2.1
FN:Nina N.
EMAIL;WORK:NINA@fresh.example
END:VCARD
"""


def test_import_a_phone_vcard_merge_duplicates_export_and_leave(page, alice, tmp_path):
    Contact.objects.create(owner=alice, name="Jane Roe", emails=["jane@roestaging.com"])
    Contact.objects.create(owner=alice, name="Pat Lee", company="Lee Law", phones=["415 555 0150"])
    Contact.objects.create(
        owner=alice, name="Pat Lee", company="Lee Law", emails=["pat@leelaw.example"]
    )
    login_in_browser(page, alice.email)

    # Import: upload the phone's export and read the preview.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Me", exact=True).click()
    nav.get_by_role("link", name="Import contacts").click()
    page.get_by_label(re.compile(r"^File")).set_input_files(
        {"name": "contacts.vcf", "mimeType": "text/vcard", "buffer": PHONE_VCF}
    )
    page.get_by_role("button", name="Preview the import").click()
    page.wait_for_url(re.compile(r"/import/[0-9a-f-]+/$"))
    rows = page.locator("table.import-rows > tbody > tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Matches")
    expect(rows.nth(0)).to_contain_text("same e-mail jane@roestaging.com")
    expect(rows.nth(1)).to_contain_text("New contact")
    expect(rows.nth(2)).to_contain_text("Duplicate")
    expect(rows.nth(2)).to_contain_text("of row 2")
    confirm = page.locator("#confirm-bar button").first
    expect(confirm).to_have_text("Import 1 new and update 1")

    # Unticking a row updates the button in place (htmx); ticking it again restores it.
    page.get_by_label("Import Nina New").uncheck()
    expect(confirm).to_have_text("Import 0 new and update 1")
    page.get_by_label("Import Nina New").check()
    expect(confirm).to_have_text("Import 1 new and update 1")
    confirm.click()
    expect(page.locator("#messages")).to_contain_text("1 new contact, 1 updated")
    nina = Contact.objects.get(owner=alice, name="Nina New")
    assert "wants caterers" in nina.notes
    assert Contact.objects.get(owner=alice, name="Jane Roe").phones == ["+14155550101"]

    # Merge: the two Pat Lees are offered as duplicates; merge them.
    page.get_by_role("link", name="Look for duplicates").click()
    pairs = page.locator("ul.duplicate-pairs > li")
    expect(pairs).to_have_count(1)
    expect(pairs.first).to_contain_text("Pat Lee")
    pairs.first.get_by_role("button", name="Review and merge").click()
    page.get_by_role("button", name=re.compile(r"^Merge into Pat Lee")).click()
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    expect(page.get_by_text(re.compile("Merged with"))).to_be_visible()
    survivor = Contact.objects.get(owner=alice, name="Pat Lee")
    assert MergeRecord.objects.filter(survivor=survivor).exists()
    assert sorted(survivor.emails) == ["pat@leelaw.example"]

    # Export: contacts as vCard, downloaded straight away.
    nav.get_by_text("Me", exact=True).click()
    nav.get_by_role("link", name="Export my data").click()
    page.get_by_label(re.compile("Contacts as vCard")).check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    target = tmp_path / "export.vcf"
    download_info.value.save_as(target)
    exported = target.read_text()
    assert exported.count("BEGIN:VCARD") == 3
    assert "VERSION:4.0" in exported and "Nina New" in exported

    # Leave: delete the account with the password.
    page.goto("/profile/")
    page.get_by_role("link", name=re.compile("Delete my account")).click()
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and everything in it").click()
    page.wait_for_url(re.compile(r"/$"))
    assert not User.objects.filter(email=alice.email).exists()
    assert not Contact.objects.filter(name="Nina New").exists()
