"""Applying an augmenter chain to the train split, with the host's guarantees.

The host (not each plugin) enforces, on every run: labels stay in the task's label set; rows
that were given keep their label; ids are unique; a generated row names its source post (a row
of the split the augmenter was given) and carries that post's label. Generated rows that repeat
a (text, label) already kept, or whose text appears in dev or test, are
dropped and counted (resampling copies, ``meta["copy"] = True``, repeat texts on purpose and are
kept); the dev/test ones are also named, by augmenter and with examples, for the run's console.
Each step's output is cached by (augmenter name, version, params, seed, input fingerprint).

On a multi-label task a row's label is a canonical label set of the task, the counts before and
after are per label (posts carrying each label, and posts with none under the task's ``empty``
value), and ``groups`` adds the counts of the groups augmenters balance (each post counts for the
rarest label it carries: :meth:`LabelSpace.balance_groups
<alexbench.config.labels.LabelSpace.balance_groups>`). Copying a post for its rarest label also
adds to its other labels' counts; the per-label counts show by how much.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alexbench.config.labels import LabelSpace
from alexbench.data.splits import count_labels, posts_fingerprint
from alexbench.errors import PluginError
from alexbench.fsio import atomic_write_jsonl, read_jsonl, sha256_obj
from alexbench.interfaces import Augmenter, Context, Post

HELD_OUT = "same_text_as_dev_or_test"


@dataclass
class AugmentReport:
    before: dict[str, int]
    after: dict[str, int] = field(default_factory=dict)
    generated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    #: Generated rows dropped because their text is a dev or test post's: how many per augmenter,
    #: and a few (id, text) examples. Not stored: the run's console shows them (``held_out_warning``).
    held_out_by: dict[str, int] = field(default_factory=dict)
    held_out_examples: list[tuple[str, str]] = field(default_factory=list)
    #: Multi-label tasks only: the balancing groups' counts before and after (``before`` and
    #: ``after`` are then per label).
    groups: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "generated": self.generated,
                "dropped": self.dropped, "steps": self.steps, **({"groups": self.groups} if self.groups else {})}

    def held_out_warning(self) -> str | None:
        """One line for the console when generated rows were dropped for matching dev/test
        text (a leak from held-out data the host removed), else None."""
        n = self.dropped.get(HELD_OUT, 0)
        if not n:
            return None
        by = ", ".join(f"{name!r}: {count}" for name, count in sorted(self.held_out_by.items()))
        examples = "; ".join(f"{post_id} {text[:60]!r}" for post_id, text in self.held_out_examples)
        return (f"dropped {n} generated train row(s) whose text is a dev or test post's (by augmenter {by}; "
                f"e.g. {examples}). An augmenter sees the train split only: rows it makes from dev or test posts "
                "leak them into training. The run goes on without them; provenance.json records the count.")


#: ``groups["rule"]`` of a multi-label task's report.
GROUP_RULE = ("a post counts for the rarest label it carries (by train frequency; ties: the task's label order), "
              "a post with none for the task's empty value; copies keep their source's whole label set")


def _group_counts(posts: Sequence[Post], groups: dict[str, str], space: LabelSpace) -> dict[str, int]:
    """Posts per balancing group (``groups``: label set → group), in ``count_labels``' order."""
    counts = Counter(groups[str(p.label)] for p in posts)
    return {name: counts.get(name, 0) for name in [*sorted(space.values), *space.groups[len(space.values):]]}


def _to_row(post: Post) -> dict[str, Any]:
    return {"id": post.id, "text": post.text, "label": post.label, "extra": dict(post.extra), "meta": dict(post.meta)}


def _from_row(row: dict[str, Any]) -> Post:
    return Post(row["id"], row["text"], row["label"], row["extra"], row["meta"])


def _check(augmenter: Augmenter, rows: Sequence[Post], space: LabelSpace, given: dict[str, Post]) -> None:
    """The augmenter contract, checked on every run (errors say what to change)."""
    name = f"augmenter {augmenter.name!r}"
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, Post):
            raise PluginError(f"{name} returned {type(row).__name__} as row {i}, not Post: return a list of "
                              "alexbench.interfaces.Post (post.replace(id=..., text=...) makes a new row from a post)")
        problem = space.problem(row.label)
        if problem is not None:
            raise PluginError(f"{name} produced label {row.label!r} for row {row.id!r}: {problem}: a row keeps the "
                              "label of the post it is or was made from (post.replace(...) keeps it)")
        if row.id in seen:
            raise PluginError(f"{name} returned two rows with id {row.id!r}: give each generated row a new unique id "
                              "(e.g. f'{post.id}~{name}{k}')")
        seen.add(row.id)
        original = given.get(row.id)
        if original is not None:
            if row.label != original.label:
                raise PluginError(f"{name} changed the label of train post {row.id!r} from {original.label!r} to "
                                  f"{row.label!r}: an augmenter keeps each given row's label (it may drop rows, or "
                                  "add new rows with new ids)")
            continue
        source_id = row.meta.get("source_id")
        if source_id is None:
            raise PluginError(f"{name} generated row {row.id!r} without meta['source_id']: name the train post it "
                              "was made from (post.replace(id=..., text=..., meta={**post.meta, 'source_id': "
                              "post.id}))")
        source = given.get(source_id)
        if source is None:
            raise PluginError(f"{name} generated row {row.id!r} from source {source_id!r}, which is not a post of "
                              "the train split it was given: make rows from the posts given to augment() only")
        if row.label != source.label:
            raise PluginError(f"{name} gave generated row {row.id!r} the label {row.label!r}, but its source post "
                              f"{source_id!r} is labelled {source.label!r}: a generated row carries its source's "
                              "label (post.replace(...) keeps it)")


def keep_rows(original_ids: set[str], rows: Sequence[Post], held_out_texts: set[str]
              ) -> tuple[list[Post], Counter[str], list[str]]:
    """The rows the host keeps of an augmented train split: generated rows whose text is a dev or
    test post's, or that repeat a (text, label) already kept, are dropped (resampling copies,
    ``meta["copy"]``, repeat a text on purpose and are kept). Returns the kept rows, the drop
    counts by reason and the ids of the rows dropped for dev/test text."""
    kept: list[Post] = []
    seen: set[tuple[str, str | None]] = set()
    dropped: Counter[str] = Counter()
    held_out_ids: list[str] = []
    for post in rows:
        generated = post.id not in original_ids and not post.meta.get("copy")
        if generated and post.text in held_out_texts:
            dropped[HELD_OUT] += 1
            held_out_ids.append(post.id)
            continue
        key = (post.text, post.label)
        if key in seen and generated:
            dropped["exact_duplicate"] += 1
            continue
        seen.add(key)
        kept.append(post)
    return kept, dropped, held_out_ids


def apply_chain(
    augmenters: Sequence[Augmenter],
    train: Sequence[Post],
    held_out_texts: set[str],
    ctx: Context,
    cache_dir: Path | None,
) -> tuple[list[Post], AugmentReport]:
    report = AugmentReport(before=count_labels(train, ctx.task))
    current = list(train)
    space = ctx.task.label_space
    made_by: dict[str, str] = {}  # generated row id -> the augmenter that made it
    for augmenter in augmenters:
        key = sha256_obj({"augmenter": augmenter.describe(), "seed": ctx.seed,
                          "input": posts_fingerprint(current), "task": ctx.task.name})
        cache_file = cache_dir / "augment" / f"{key}.jsonl" if cache_dir else None
        cached = cache_file is not None and cache_file.is_file()
        given = {p.id: p for p in current}
        if cached:
            out = [_from_row(r) for r in read_jsonl(cache_file)]
        else:
            out = list(augmenter.augment(list(current), ctx))
        _check(augmenter, out, space, given)  # cached output too: it may predate a check
        if not cached and cache_file is not None:
            atomic_write_jsonl(cache_file, [_to_row(p) for p in out])
        made = [p.id for p in out if p.id not in given]
        made_by.update(dict.fromkeys(made, augmenter.name))
        report.generated += len(made)
        step = {"augmenter": augmenter.describe(), "cache_key": key, "cached": cached,
                "rows_in": len(current), "rows_out": len(out), "counts_out": count_labels(out, ctx.task)}
        if space.multi_label:  # the groups this step balanced (by its input's label frequencies)
            step_groups = space.balance_groups(p.label for p in current)
            step["groups_in"] = _group_counts(current, step_groups, space)
            step["groups_out"] = _group_counts(out, step_groups, space)
        report.steps.append(step)
        current = out
    if augmenters:
        texts = {p.id: p.text for p in current}
        current, dropped, held_out_ids = keep_rows({p.id for p in train}, current, held_out_texts)
        report.dropped = dict(sorted(dropped.items()))
        report.held_out_by = dict(Counter(made_by.get(post_id, "?") for post_id in held_out_ids))
        report.held_out_examples = [(post_id, texts[post_id]) for post_id in held_out_ids[:3]]
    report.after = count_labels(current, ctx.task)
    if space.multi_label:
        groups = space.balance_groups(p.label for p in train)
        report.groups = {"rule": GROUP_RULE, "before": _group_counts(train, groups, space),
                         "after": _group_counts(current, groups, space)}
    return current, report
