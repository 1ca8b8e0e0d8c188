"""seed_demo for follow-ups."""

from collections import Counter


def seed_user(rng, user, contacts, meetings, now, scale) -> Counter:
    return Counter()
