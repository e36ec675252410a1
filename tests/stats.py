"""Two-sample tests for comparing samplers (used by the augmentation-engine equivalence tests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.stats import chi2_contingency


def chi2_p(a: Sequence, b: Sequence, min_expected: float = 5.0) -> float:
    """p-value of a chi-square test that two samples of categories come from one distribution;
    categories too rare for the test are pooled into one."""
    ca, cb = Counter(a), Counter(b)
    cats = sorted(set(ca) | set(cb), key=lambda c: (ca[c] + cb[c], str(c)), reverse=True)
    total_a, total_b = len(a), len(b)
    table: list[list[int]] = []
    rest = [0, 0]
    for cat in cats:
        row = [ca[cat], cb[cat]]
        expected = min(sum(row) * total_a, sum(row) * total_b) / (total_a + total_b)
        if expected >= min_expected:
            table.append(row)
        else:
            rest = [rest[0] + row[0], rest[1] + row[1]]
    if sum(rest):
        table.append(rest)
    if len(table) < 2:
        return 1.0  # a single category on both sides: nothing to tell them apart
    return float(chi2_contingency(np.array(table).T)[1])
