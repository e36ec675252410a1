"""Which values are seeds: read with a study's ``seeds``, a ``--seeds`` range and a run's seed,
and checked where they are read (configuration, not running)."""

from __future__ import annotations

#: Seeds are whole numbers NumPy accepts: 0 ≤ seed ≤ 2**32 - 1.
SEED_MAX = 2**32 - 1
#: The most seeds one ``--seeds`` may give: every seed is a run of every variant, and a range like
#: 0-100000000 would otherwise be expanded (and run) before anything said so.
MAX_SEEDS = 1000


def seed_problem(value: object) -> str | None:
    """Why ``value`` cannot be a seed, or None when it can."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number, got {value!r}"
    if not 0 <= value <= SEED_MAX:
        return f"seeds are whole numbers from 0 to {SEED_MAX}, got {value}"
    return None
