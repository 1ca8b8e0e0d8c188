"""(being written) Introduction suggestions: pairs of the user's contacts who should meet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Suggestion:
    a: object  # contacts.models.Contact
    b: object
    reason: str  # in words, e.g. "Ann's goal “open a second office” meets Bob's skill “commercial leases”"
    score: float
    # The words that matched, for highlighting: {"a": [...], "b": [...]}
    highlights: dict = field(default_factory=dict)
    kind: str = ""  # "goal_skill", "same_sphere", "trusted_helper"


def suggest(user, limit: int = 20) -> list[Suggestion]:
    return []
