"""The built-in augmenters on multi-label tasks (issue 18): each post is grown and cut for the rarest
label it carries, copies keep their source's whole label set, the host checks label sets and
reports per-label and per-group counts. Real augmenters on real text, small data."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from alexbench.cli.augment import augment as augment_command
from alexbench.config.labels import LabelSpace
from alexbench.config.tasks import TaskCatalog, TaskSpec, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.data.augment import apply_chain
from alexbench.data.splits import load_dataset
from alexbench.errors import PluginError
from alexbench.fsio import read_jsonl
from alexbench.interfaces import Augmenter, Context, Post
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

from .test_augment_plugins import generated
from .test_multilabel import LABELS, make_task

#: A skewed multi-label split (labels side_effects, efficacy, access; "none" for no label): access
#: is on 3 posts, 2 of them with side_effects too.
SKEWED = [
    ("sore arm and a fever after the jab last night", "side_effects"),
    ("headache all day after my second dose", "side_effects"),
    ("felt wiped out for two days after the booster", "side_effects"),
    ("my arm is so sore I cannot lift it", "side_effects"),
    ("chills and aches after the vaccine, staying in bed", "side_effects"),
    ("tired and achy after dose two, worth it though", "side_effects"),
    ("slight rash near the injection site this morning", "side_effects"),
    ("bit of nausea after the shot, otherwise fine", "side_effects"),
    ("does the booster even work against the new variant", "efficacy"),
    ("how long does the protection actually last", "efficacy"),
    ("my friend got covid twice after two doses, so what is the point", "efficacy"),
    ("the study says it cuts hospital stays by ninety percent", "efficacy"),
    ("is one dose enough or do I need the second", "efficacy"),
    ("fever after the jab and I still caught covid a week later", "side_effects{sep}efficacy"),
    ("arm hurts and apparently it only works for six months", "side_effects{sep}efficacy"),
    ("no appointments anywhere near me and my arm still hurts from the first one", "access{sep}side_effects"),
    ("drove an hour to the only clinic, then a fever all night", "access{sep}side_effects"),
    ("the walk-in centre closed again before I got to the front of the queue", "access"),
    ("booked my booster for saturday morning", "none"),
    ("got jabbed today, all fine", "none"),
    ("the nurse at the clinic was lovely", "none"),
    ("queue moved quickly at the leisure centre", "none"),
    ("second dose done, sticker acquired", "none"),
    ("mum had hers this morning, no problems", "none"),
    ("the pharmacy texted to say my slot is confirmed", "none"),
    ("took my dad for his booster after lunch", "none"),
    ("vaccination card updated at the gp today", "none"),
    ("the volunteers handed out biscuits after the jab", "none"),
]


def per_label(rows: Sequence[Post], task: TaskSpec) -> dict[str, int]:
    """Posts carrying each label, and posts with none under the task's empty value, counted here."""
    counts = {label: 0 for label in task.labels}
    counts[task.empty] = 0
    for row in rows:
        labels = row.label.split("|") if row.label else [task.empty]
        for label in labels:
            counts[label] += 1
    return counts


def rarest(label: str, frequency: Counter[str], task: TaskSpec) -> str:
    """The group of one label set, worked out here: its least frequent label, first in task order on ties."""
    if not label:
        return task.empty
    parts = label.split("|")
    return sorted(parts, key=lambda part: (frequency[part], task.labels.index(part)))[0]


def group_counts(rows: Sequence[Post], train: Sequence[Post], task: TaskSpec) -> dict[str, int]:
    frequency = Counter(part for post in train for part in task.label_set(post.label))
    counts = Counter(rarest(row.label, frequency, task) for row in rows)
    return {group: counts.get(group, 0) for group in [*task.labels, task.empty]}


@pytest.fixture(scope="module")
def skewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[TaskSpec, list[Post]]:
    task = load_task(make_task(tmp_path_factory.mktemp("ml"), rows=SKEWED))
    return task, load_dataset(task).train


RARE = {"mandates", "misinformation"}


@pytest.fixture(scope="module")
def concerns() -> tuple[TaskSpec, list[Post]]:
    """The vaccine_concerns demo's train split (360 posts; mandates and misinformation on 9 each)."""
    task = TaskCatalog(PluginHost().task_dirs()).load("vaccine_concerns")
    return task, load_dataset(task).train


def pick(task: TaskSpec, train: list[Post], others: dict[str, int], rare: Sequence[str] | None = None) -> list[Post]:
    """Every post carrying mandates or misinformation (only those whose label set is in ``rare``,
    when given), then the first ``others[label set]`` posts of other label sets, in the split's order."""
    left = dict(others)
    out = []
    for post in train:
        if RARE & set(task.label_set(post.label)):
            if rare is None or post.label in rare:
                out.append(post)
        elif left.get(post.label, 0) > 0:
            left[post.label] -= 1
            out.append(post)
    return out


def augmented(name: str, params: dict, task: TaskSpec, train: list[Post], seed: int = 1):
    aug = PluginHost().build("augmenter", name, params)
    rows, report = apply_chain([aug], train, set(), Context(task=task, seed=seed), None)
    return aug, rows, report


def test_each_post_belongs_to_the_group_of_its_rarest_label() -> None:
    space = LabelSpace(tuple(LABELS), True, " ", "none")
    labels = ["side_effects", "side_effects", "side_effects|efficacy", "side_effects|access", "efficacy|access",
              "", "efficacy", "side_effects|efficacy|access"]
    # carried: side_effects 5, efficacy 4, access 3
    assert space.balance_groups(labels) == {
        "side_effects": "side_effects", "side_effects|efficacy": "efficacy", "side_effects|access": "access",
        "efficacy|access": "access", "": "none", "efficacy": "efficacy", "side_effects|efficacy|access": "access"}
    assert space.groups == ("side_effects", "efficacy", "access", "none")
    # a tie (efficacy and access on 2 posts each) goes to the label first in the task's order
    assert space.balance_groups(["efficacy|access", "efficacy", "access", "side_effects"])["efficacy|access"] == \
        "efficacy"
    without_empty = LabelSpace(tuple(LABELS), True, " ", None)
    assert without_empty.groups == tuple(LABELS)
    single = LabelSpace(("0", "1"))
    assert single.balance_groups(["1", "0", "1"]) == {"1": "1", "0": "0"} and single.groups == ("0", "1")


FAST = [("alex_textattack", {}), ("eda", {"n": 4, "balance": "ratio"})]
TEXTATTACK = [("alex_textattack", {"n": 2, "engine": "textattack"}),
              ("eda", {"n": 2, "balance": "ratio", "engine": "textattack"})]


@pytest.mark.parametrize(("name", "params"), [
    *FAST, *(pytest.param(n, p, marks=pytest.mark.slow) for n, p in TEXTATTACK)],
    ids=[*(n for n, _ in FAST), *(f"{n}-textattack" for n, _ in TEXTATTACK)])
def test_growing_a_skewed_split_raises_its_rarest_labels(concerns, name: str, params: dict) -> None:
    task, full = concerns
    if params.get("engine") == "textattack":  # TextAttack's own engine is slow: fewer posts
        train = pick(task, full, {"": 12, "side_effects": 12},
                     rare=["mandates", "misinformation", "side_effects|mandates", "side_effects|misinformation"])
    else:
        train = pick(task, full, {"": 30, "side_effects": 15, "efficacy": 10, "safety_trust": 10, "access": 8,
                                  "side_effects|efficacy": 2})
    aug, rows, report = augmented(name, params, task, train)
    before, after = per_label(train, task), per_label(rows, task)
    groups_before, groups_after = group_counts(train, train, task), group_counts(rows, train, task)
    assert max(before[label] for label in RARE) <= min(n for label, n in before.items() if n and label not in RARE)
    grown = aug.last_report["grown_classes"]
    assert {"mandates", "misinformation"} <= set(grown) and task.empty not in grown
    # ratio 1:1 — every group that has posts ends at the same size, the cap; the rarest labels rise to it
    cap = max(groups_after.values())
    assert {n for n in groups_after.values() if n} == {cap} and cap > groups_before["mandates"]
    assert after["mandates"] > before["mandates"] and after["misinformation"] > before["misinformation"]
    # (their copies also add to the labels they share posts with)
    for row in rows:
        assert task.label_space.problem(row.label) is None
        assert set(task.label_set(row.label)) <= set(task.labels)
    # the host's provenance and the augmenter's report say the same, counted here from the rows
    assert report.before == before and report.after == after
    assert report.groups["before"] == groups_before and report.groups["after"] == groups_after
    assert {g: n for g, n in aug.last_report["counts_after"].items()} == {g: n for g, n in groups_after.items() if n}
    assert aug.last_report["classes_are"].startswith("groups: each post counts for the rarest label")


def test_copies_keep_their_sources_whole_label_set(skewed) -> None:
    task, train = skewed
    aug, rows, report = augmented("alex_textattack", {"n": 5}, task, train)
    by_id = {p.id: p for p in train}
    new = generated(rows)
    assert aug.last_report["grown_classes"] == ["access"]  # 3 posts; the mean group has 7
    assert {r.label for r in new} == {"side_effects|access", "access"}
    for row in new:
        source = by_id[row.meta["source_id"]]
        assert row.label == source.label and row.text != source.text
        assert row.meta["augmenter"] == "alex_textattack"
    # access grew 3 → 7 (the cap: efficacy's 7 posts); two of its posts also carry side_effects, so
    # side_effects went up with it although its own group was cut from 8 to 7
    assert report.groups["before"] == {"access": 3, "efficacy": 7, "side_effects": 8, "none": 10}
    assert report.groups["after"] == {"access": 7, "efficacy": 7, "side_effects": 7, "none": 7}
    assert report.before["access"] == 3 and report.after["access"] == 7
    added = sum(1 for r in new if r.label == "side_effects|access")
    assert added >= 1 and report.after["side_effects"] == report.before["side_effects"] - 1 + added
    assert report.after["none"] == 7  # undersampling removed 3 whole posts with no label


def test_the_same_seed_gives_the_same_rows(skewed) -> None:
    task, train = skewed
    first = augmented("eda", {"n": 3, "balance": "ratio"}, task, train, seed=5)[1]
    again = augmented("eda", {"n": 3, "balance": "ratio"}, task, train, seed=5)[1]
    other = augmented("eda", {"n": 3, "balance": "ratio"}, task, train, seed=6)[1]
    assert [(r.id, r.text, r.label) for r in first] == [(r.id, r.text, r.label) for r in again]
    assert [r.text for r in generated(first)] != [r.text for r in generated(other)]


def test_resample_over_and_under_samples_the_groups(skewed) -> None:
    task, train = skewed
    aug, over, report = augmented("resample", {}, task, train)
    assert report.groups["after"] == {"side_effects": 10, "efficacy": 10, "access": 10, "none": 10}
    copies = [r for r in over if r.meta.get("copy")]
    by_id = {p.id: p for p in train}
    assert len(copies) == 12 and all(r.label == by_id[r.meta["copy_of"]].label for r in copies)
    assert aug.last_report["oversampled"] == {"side_effects": 2, "efficacy": 3, "access": 7}
    assert report.after == per_label(over, task)
    aug, under, report = augmented("resample", {"oversample_to": 0.0, "balance": "ratio"}, task, train, seed=2)
    assert report.groups["after"] == {"side_effects": 3, "efficacy": 3, "access": 3, "none": 3}
    assert {r.id for r in under} <= set(by_id) and aug.last_report["undersampled"] == {
        "side_effects": 5, "efficacy": 4, "none": 7}
    # cutting removes whole posts: the two side_effects+access posts stay with access's group
    assert report.after == per_label(under, task) and report.after["side_effects"] >= 3 + 2


def test_the_runner_records_per_label_counts_that_match_the_augmented_rows(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "tasks", rows=SKEWED))
    store = ResultsStore(tmp_path / "results")
    variant = VariantSpec("tfidf+alex", ComponentSpec("tfidf_logreg"),
                          (ComponentSpec("alex_textattack", {"n": 3}),))
    outcome = Runner(PluginHost(), store, show_progress=False).run(task, variant, 3)
    assert outcome.ok
    prov = outcome.run.provenance()["augmentation"]
    [cached] = list(store.cache_dir.rglob("augment/*.jsonl"))
    rows = [Post(r["id"], r["text"], r["label"], r["extra"], r["meta"]) for r in read_jsonl(cached)]
    train = load_dataset(task).train
    assert prov["before"] == per_label(train, task)
    assert prov["after"] == per_label(rows, task)  # nothing dropped by the host here
    assert prov["dropped"] == {}
    assert prov["groups"]["before"] == group_counts(train, train, task)
    assert prov["groups"]["after"] == group_counts(rows, train, task)
    assert prov["groups"]["rule"].startswith("a post counts for the rarest label it carries")
    [step] = prov["steps"]
    assert step["counts_out"] == prov["after"] and step["groups_out"] == prov["groups"]["after"]
    assert step["groups_in"] == prov["groups"]["before"]


class Misordered(Augmenter):
    """Declares multi_label but writes a label set out of the task's order."""

    name = "misordered"
    version = "1.0"
    multi_label = True

    def augment(self, train, ctx):
        post = next(p for p in train if p.label == "side_effects|access")
        return [*train, post.replace(id="x", text="new text", label="access|side_effects",
                                     meta={"source_id": post.id})]


def test_the_host_refuses_a_label_set_that_is_not_canonical(skewed) -> None:
    task, train = skewed
    with pytest.raises(PluginError, match=r"augmenter 'misordered' produced label 'access\|side_effects' for row "
                                          r"'x': not a label set: labels of \['side_effects', 'efficacy', 'access'\] "
                                          r"in that order joined by '\|', or '' for none"):
        apply_chain([Misordered()], train, set(), Context(task=task, seed=1), None)


def test_single_label_reports_keep_their_keys(tiny_task: TaskSpec) -> None:
    train = load_dataset(tiny_task).train
    aug = PluginHost().build("augmenter", "resample", {})
    _, report = apply_chain([aug], train, set(), Context(task=tiny_task, seed=1), None)
    data = report.to_dict()
    assert set(data) == {"before", "after", "generated", "dropped", "steps"}
    assert data["before"] == {"0": 12, "1": 6} and data["after"] == {"0": 12, "1": 12}
    assert set(data["steps"][0]) == {"augmenter", "cache_key", "cached", "rows_in", "rows_out", "counts_out"}
    assert "classes_are" not in aug.last_report


def test_augment_preview_shows_per_label_and_group_counts(tmp_path: Path) -> None:
    path = make_task(tmp_path, rows=SKEWED)
    result = CliRunner().invoke(augment_command, ["-t", str(path), "-a", "resample", "-p", "oversample_to=0",
                                                  "-p", "balance=ratio"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "train label counts (posts carrying each label)" in out and "balanced groups" in out
    lines = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
             for line in out.splitlines() if line.count("│") == 5}
    assert lines["posts"] == ["28", "12", "-16"] and lines["none"] == ["10", "3", "-7"]
    assert "cutting a post removes all of its labels" in out
    data = json.loads(CliRunner().invoke(augment_command, ["-t", str(path), "-a", "resample", "--json"]).output)
    assert data["host"]["before"] == {"access": 3, "efficacy": 7, "side_effects": 12, "none": 10}
    assert data["host"]["groups"]["after"] == {"access": 10, "efficacy": 10, "side_effects": 10, "none": 10}


def test_balancing_does_not_depend_on_the_order_of_label_frequencies_in_the_input(skewed) -> None:
    """The groups depend on how many posts carry each label, not on where they are."""
    task, train = skewed
    shuffled = list(train)
    random.Random(3).shuffle(shuffled)
    assert task.label_space.balance_groups(p.label for p in shuffled) == \
        task.label_space.balance_groups(p.label for p in train)


def test_grow_names_groups_the_empty_one_by_the_tasks_empty_value(skewed) -> None:
    task, train = skewed
    aug, rows, _ = augmented("eda", {"n": 1, "grow": "access,none"}, task, train)
    assert aug.last_report["grown_classes"] == ["access", "none"]
    assert {r.label for r in generated(rows)} == {"access", "side_effects|access", ""}
    aug, rows, _ = augmented("eda", {"n": 1, "grow": "none"}, task, train)  # "none" alone: grow nothing
    assert aug.last_report["grown_classes"] == [] and rows == train
