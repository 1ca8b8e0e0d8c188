"""Introduction suggestions over a big network, for ``scripts/bench.py``.

``bench_suggestions()`` expects Django set up on a database where ``seed_demo --users 1
--contacts 10000 --meetings 100000`` ran (user1@example.com: 10,000 contacts, ~57,000 GAINS
facts) and returns ``(seconds, count)`` for ``plan.suggestions.suggest(user, limit=20)``,
the best of three runs (the first warms the caches).

Run alone: ``DATABASE_URL=... python scripts/bench_plan.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 3


def bench_suggestions(email: str = "user1@example.com", limit: int = 20) -> tuple[float, int]:
    from accounts.models import User
    from plan.suggestions import suggest

    user = User.objects.get(email=email)
    best = None
    count = 0
    for _ in range(RUNS):
        start = time.perf_counter()
        count = len(suggest(user, limit=limit))
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return best, count


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referralcrm.settings")
    import django

    django.setup()
    from contacts.models import GainsFact

    seconds, count = bench_suggestions()
    facts = GainsFact.objects.filter(owner__email="user1@example.com").count()
    print(f"suggestions over {facts:,} GAINS facts: {count} in {seconds * 1000:.0f} ms")
