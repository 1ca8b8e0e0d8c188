"""What a parser makes of one card or row: the common shape every import format produces.

Parsers (``portability.parsers``) turn a file into ``Parsed`` records; the importer
(``portability.importer``) matches them against the user's contacts and saves them.
Records travel through the database (``ImportBatch.rows``) as plain dicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class OccasionRecord:
    kind: str  # contacts.models.OccasionKind value
    month: int
    day: int
    year: int | None = None
    label: str = ""


@dataclass
class Record:
    position: int  # card number in a vCard file, line number in a CSV (1-based)
    name: str = ""
    company: str = ""
    profession: str = ""  # job title or category
    emails: list[str] = field(default_factory=list)  # lower-cased, validated
    phones: list[str] = field(default_factory=list)  # E.164 where phonenumbers could parse
    website: str = ""
    address: str = ""
    city: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    met_how: str = ""  # "Imported from LinkedIn, connected 15 Mar 2024"
    occasions: list[OccasionRecord] = field(default_factory=list)
    is_organisation: bool = False  # vCard KIND:org
    errors: list[str] = field(default_factory=list)  # the row cannot be imported, and why
    warnings: list[str] = field(default_factory=list)  # imported, but something was dropped

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Record:
        data = dict(data)
        data["occasions"] = [OccasionRecord(**o) for o in data.get("occasions", [])]
        return cls(**data)


@dataclass
class Parsed:
    format: str  # portability.models.ImportFormat value
    records: list[Record]
    # For "Other CSV": the header row, and the mapping used (column index -> field name).
    columns: list[str] = field(default_factory=list)
    column_map: dict[str, str] = field(default_factory=dict)


class FileRejected(Exception):
    """The whole file is unusable (empty, binary, too large, too many rows, no header...).

    The message is shown to the user as it is: say what is wrong and what to do.
    """
