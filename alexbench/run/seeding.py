"""Seeds: which values are seeds, and seeding the global generators before a run's stages."""

from __future__ import annotations

import random
import sys

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


def seed_everything(seed: int) -> None:
    """Seed Python's and NumPy's global generators, and torch's when it is already imported.

    Components should still use their own generators derived from the seed; this guards
    libraries that reach for the global ones (nlpaug, TextAttack, scikit-learn defaults).
    """
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
