"""The statistics a leaderboard row carries besides its metrics (an explainer's, an LLM
classifier's cost) and how each is shown: the one list that the board (:mod:`~alexbench.report.board`:
what a row keeps, what the files leave out) and the table model (:mod:`~alexbench.report.table`:
the columns every renderer draws) both read, so neither imports the other to learn it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExplainerColumn:
    """One explainer statistic: mean ± std over seeds of a key of each run's ``metrics.json``
    (``explainer``). ``header`` (rich, Markdown), ``html`` and ``latex`` (LaTeX source) are
    templates in which ``{}`` stands for the explainer's name (:func:`explainer_label`);
    ``digits`` are for the plain-text tables (rich, Markdown), ``typeset_digits`` for HTML and LaTeX."""

    key: str
    header: str
    html: str
    latex: str
    tooltip: str
    digits: int = 3
    typeset_digits: int = 3
    #: A measurement of the machine (seconds), not of the method: shown in the terminal only.
    machine: bool = False
    #: Recorded only in runs where it happened (an explainer's failed posts): shown, in every format
    #: but the CSV, when some row has it; the CSV's fixed columns leave it out.
    sparse: bool = False


#: The explainer statistics shown per variant: counts (and the posts whose explanation failed,
#: only where some did), the model's cost per 1,000 posts and
#: latency per post sent (p50/p95, from the model's own time also for cached replies), and the
#: ``score`` verdict's threshold. A column no row has a value for is left out of the tables (not
#: of CSV and JSON). The latencies are the machine's, not the method's: the terminal shows them,
#: the files (Markdown, CSV, JSON, LaTeX, HTML) leave them out, so that a board rendered again
#: on another machine, or after the runs were made again, is the same file (:data:`MACHINE_KEYS`).
#: Headers are named after the board's explainer (``llm sent``, ``third_party_veto sent``;
#: :func:`explainer_label`).
EXPLAINER_COLUMNS = (
    ExplainerColumn("sent", "{} sent", "{} sent", "{} sent",
                    "posts the explainer was asked about (mean over seeds)", digits=0, typeset_digits=1),
    ExplainerColumn("flips", "{} flips", "{} flips", "{} flips",
                    "predictions the explainer changed (mean over seeds)", digits=0, typeset_digits=1),
    ExplainerColumn("flip_precision", "{} flip_precision", "flip precision", "flip prec.",
                    "share of the explainer's label changes that fixed an error"),
    ExplainerColumn("unparsable_rate", "{} unparsable_rate", "unparsable", "unparsable",
                    "share of explainer answers that could not be parsed"),
    ExplainerColumn("failed", "{} failed", "{} failed", "{} failed",
                    "posts whose explanation failed (no answer), mean over the seeds whose runs had any: a run "
                    "with failed posts is stored only as far as ALEXBENCH_EXPLAINER_MAX_FAILED allows",
                    digits=0, typeset_digits=1, sparse=True),
    ExplainerColumn("cost_per_1000_posts_usd", "{} $/1k posts", "{} $/1k posts", r"{} \$/1k posts",
                    "the model's price (USD) per 1,000 posts given to the explainer (litellm's price map; 0 for "
                    "local models)", digits=4, typeset_digits=4),
    ExplainerColumn("latency_p50_s", "{} p50 s", "{} p50 s", "{} p50 s",
                    "median seconds the model took per post sent", machine=True),
    ExplainerColumn("latency_p95_s", "{} p95 s", "{} p95 s", "{} p95 s",
                    "95th percentile of the seconds the model took per post sent", machine=True),
    ExplainerColumn("threshold", "{} threshold", "{} threshold", "{} thr.",
                    "score verdict: P(false) at or above which a label is flipped (chosen on dev)"),
)
#: How HTML and LaTeX spell an explainer's name in a header (others: as named).
TYPESET_NAMES = {"llm": "LLM"}
#: The headers' name when a board's rows have different explainers.
MIXED_EXPLAINERS = "explainer"
#: What a classifier that asks a model per post (the ``llm`` classifier) cost on test, where its
#: runs recorded it (``classifier_usage``): its price per 1,000 posts (in the tables and the JSON,
#: not the CSV's fixed columns) and, in the terminal only, the model's latency per question.
CLASSIFIER_COLUMNS = (
    ExplainerColumn("cost_per_1000_posts_usd", "classifier $/1k posts", "classifier $/1k posts",
                    r"clf.\ \$/1k posts", "the classifier's model price (USD) per 1,000 test posts (litellm's price "
                    "map; 0 for local models)", digits=4, typeset_digits=4),
    ExplainerColumn("latency_p50_s", "classifier p50 s", "classifier p50 s", "clf. p50 s",
                    "median seconds the classifier's model took per question", machine=True),
    ExplainerColumn("latency_p95_s", "classifier p95 s", "classifier p95 s", "clf. p95 s",
                    "95th percentile of the seconds the classifier's model took per question", machine=True),
)
CLASSIFIER_MACHINE_KEYS = tuple(c.key for c in CLASSIFIER_COLUMNS if c.machine)
EXPLAINER_KEYS = tuple(c.key for c in EXPLAINER_COLUMNS)
#: Explainer statistics that measure the machine (seconds): in the terminal only.
MACHINE_KEYS = tuple(c.key for c in EXPLAINER_COLUMNS if c.machine)
#: The explainer statistics of the files: all but the machine's (JSON: those a row has).
FILE_TABLE_KEYS = tuple(k for k in EXPLAINER_KEYS if k not in MACHINE_KEYS)
#: The CSV's fixed explainer columns: the files' statistics but the sparse ones.
FILE_EXPLAINER_KEYS = tuple(c.key for c in EXPLAINER_COLUMNS if not (c.machine or c.sparse))
#: Explainer statistics in the JSON leaderboard only (``rows[].explainer``), where a run has them: a
#: multi-label judge's (post, label) questions, the labels it removed and ``removal_precision``
#: (the share of removed labels not in the gold set; :func:`~alexbench.scoring.explainer_stats.label_removal_stats`).
JSON_ONLY_EXPLAINER_KEYS = ("label_questions", "label_removals", "label_removals_right", "removal_precision")
