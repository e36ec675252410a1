"""A leaderboard as CSV and JSON: every number at full precision, in a fixed schema.

Unlike the tables, CSV and JSON keep every column whether or not a row has a value for it (a
script reading them finds the same columns every time): the official and dev metric, macro and
micro F1, accuracy (multi-label: also samples F1, subset accuracy, Hamming loss), F1 per class
(or label) and every explainer statistic of the table model's
:data:`~alexbench.report.columns.EXPLAINER_COLUMNS` but the machine's latencies, as ``<column>_mean``
and ``<column>_std``. A
board whose official metric is lower-is-better (e.g. ``hamming_loss``) has one more column,
``official_direction`` (``lower is better``), and its JSON ``official_higher_is_better: false``
(and each comparison's ``higher_is_better: false``); a board with a simulated row (a judge that
reads the gold labels) has a last column ``simulated`` (``true``/``false``), and the row's JSON
``simulated: true``; rows are in leaderboard order, best first.

Text cells (task, variant and reference names, metric, baseline, reference split, source and note)
are never spreadsheet formulas: one that starts with ``=``, ``+``, ``-``, ``@`` or a tab and is not
a number is written with a leading ``'`` (:func:`alexbench.safetext.csv_text`); numbers, written
by alexbench itself, are never changed. The JSON keeps every name exactly as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from alexbench.report.board import Leaderboard, Row, Stat
from alexbench.report.columns import FILE_EXPLAINER_KEYS
from alexbench.safetext import csv_text


def stat_columns(board: Leaderboard) -> list[tuple[str, Callable[[Row], Stat | None]]]:
    """The CSV's statistics, each a name and the row's value."""
    cols: list[tuple[str, Callable[[Row], Stat | None]]] = [
        ("test_official", lambda r: r.test_official), ("dev_official", lambda r: r.dev_official)]
    cols += [(f"test_{k}", lambda r, k=k: r.scalars.get(k)) for k in ("macro_f1", "micro_f1", "accuracy")]
    if board.multi_label:  # the label-set metrics; a single-label board keeps its columns as they were
        cols += [(f"test_{k}", lambda r, k=k: r.scalars.get(k)) for k in ("samples_f1", "subset_accuracy",
                                                                         "hamming_loss")]
    cols += [(f"test_f1_{label}", lambda r, lab=label: r.per_class_f1[lab]) for label in board.labels]
    cols += [(f"explainer_{k}", lambda r, k=k: r.explainer.get(k)) for k in FILE_EXPLAINER_KEYS]
    return cols


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    stats = stat_columns(board)
    simulated = any(r.simulated for r in board.rows)
    writer.writerow(["task", "variant", "official_metric", "n_seeds", "baseline", "delta", "ci_low", "ci_high",
                     "p_bootstrap_holm", "p_mcnemar_holm"]
                    + [csv_text(f"{name}_{part}") for name, _ in stats for part in ("mean", "std")]
                    + ["kind", "reference_split", "reference_source", "reference_note"]
                    + ([] if board.higher_is_better else ["official_direction"])
                    + (["simulated"] if simulated else []))
    direction = [] if board.higher_is_better else ["lower is better"]
    for row in board.rows:
        values: list[str] = []
        for _, get in stats:
            s = get(row)
            values += ["", ""] if s is None else [f"{s.mean:.6f}", f"{s.std:.6f}"]
        c = row.comparison
        sig = [f"{c.ci_low:.6f}", f"{c.ci_high:.6f}", f"{c.p_bootstrap_holm:.6g}", f"{c.p_mcnemar_holm:.6g}"] if c else [""] * 4
        delta = "" if row.delta is None else f"{row.delta:.6f}"
        writer.writerow([*map(csv_text, (row.task, row.variant, row.official_metric)), len(row.seeds),
                         csv_text(board.baseline or ""), delta,
                         *sig, *values, "run", "", "", "", *direction,
                         *(["true" if row.simulated else "false"] if simulated else [])])
    for ref in board.references:  # a published result: its score in test_official_mean, nothing else
        writer.writerow([*map(csv_text, (board.task, ref.name, board.official_metric)), 0,
                         csv_text(board.baseline or ""), "", "", "", "", "", f"{ref.score:.6g}",
                         *[""] * (2 * len(stats) - 1), "reference", *map(csv_text, (ref.split, ref.source, ref.note)),
                         *direction, *(["false"] if simulated else [])])
    return buf.getvalue()


def to_json(board: Leaderboard) -> str:
    """The leaderboard's data (:meth:`Leaderboard.to_dict`), keys sorted, without a final newline."""
    return json.dumps(board.to_dict(), indent=2, sort_keys=True)
