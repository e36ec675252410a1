"""Seeding the global generators before a run's stages (which values are seeds:
:mod:`alexbench.config.seeds`)."""

from __future__ import annotations

import random
import sys


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
