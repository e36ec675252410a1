"""ALEX's class-balancing settings for the SMM4H 2023 tasks, as named presets of ``alex_textattack``.

A preset fills in the parameters you leave at their defaults (a parameter you set to a value
other than its default wins). Differences from the original code, on purpose: every step is
seeded; a post whose augmentation fails is kept and counted; the Task 4 recipe (×2, oversample,
×1, undersample) augments the original posts ×3 in one pass instead of augmenting the
oversampled duplicates again, then oversamples and undersamples.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # Task 1 (COVID-19 diagnosis self-report, binary): minority ×10, then undersample to 1:1.
    "smm4h23_task1": {"grow": "minority", "n": 10, "balance": "ratio", "ratio": 1.0},
    # Task 2 (sentiment toward therapies): positive and negative ×10, then undersample each class to 2,000.
    "smm4h23_task2": {"grow": "positive,negative", "n": 10, "balance": "count", "target_count": 2000},
    # Task 4 (social anxiety self-report, binary): ×2, oversample, ×1, undersample to 1:1 → ×3 once,
    # copies up to the majority's size, 1:1.
    "smm4h23_task4": {"grow": "minority", "n": 3, "oversample_to": 1.0, "balance": "ratio", "ratio": 1.0},
}


def apply_preset(params: Any) -> None:
    """Fill a frozen Params dataclass's fields left at their defaults from its ``preset`` (a
    parameter set to another value wins): called from ``__post_init__``."""
    import dataclasses

    if not params.preset:
        return
    defaults = {f.name: f.default for f in dataclasses.fields(params)}
    for key, value in PRESETS[params.preset].items():
        if getattr(params, key) == defaults[key]:
            object.__setattr__(params, key, value)
