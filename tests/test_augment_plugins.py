"""The built-in augmenters on real (small) data with the real libraries: determinism, labels,
provenance, balancing, error counting, resampling, and the runner's train-only guarantee."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from alexbench_augment.base import GrowingAugmenter
from alexbench_augment.generation import normalise, restore
from alexbench_augment.nlpaug_aug import NlpaugKeyboard
from alexbench_augment.textattack_aug import AlexParams
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alexbench.config.tasks import TaskSpec, load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.interfaces import Context, Post
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo() -> tuple[TaskSpec, list[Post]]:
    from alexbench.data.splits import load_dataset

    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    train = load_dataset(task).train
    # a small sample: 8 positives (one with mentions and &amp;), 16 negatives
    pos = [p for p in train if p.label == "1"][:7]
    neg = [p for p in train if p.label == "0"][:16]
    extra = Post("m1", "@drsmith &amp; @nhs my covid pcr came back positive this morning", "1")
    return task, [*pos, extra, *neg]


def build(host: PluginHost, name: str, **params):
    return host.build("augmenter", name, params)


def run(aug, task: TaskSpec, train: list[Post], seed: int = 1) -> list[Post]:
    return aug.augment(list(train), Context(task=task, seed=seed))


def generated(rows: list[Post]) -> list[Post]:
    return [r for r in rows if "source_id" in r.meta and not r.meta.get("copy")]


FAST = [("nlpaug_keyboard", {}), ("nlpaug_ocr", {}), ("nlpaug_random_char", {"action": "swap"}),
        ("nlpaug_random_word", {"action": "swap"}), ("nlpaug_spelling", {}), ("nlpaug_synonym", {})]


SPACED = [Post("s1", "I'm sick, tested positive (again) for covid-19! my mum isn't happy &amp; I'm tired.", "1"),
          Post("s2", "can't smell anything... it's day 3 of covid-19 :( doctor's note says isolate", "1"),
          Post("s3", "my pcr came back positive, so I've cancelled the trip", "1")]


@pytest.mark.parametrize(("name", "params"), FAST, ids=[n for n, _ in FAST])
def test_nlpaug_output_keeps_the_posts_own_spacing(host: PluginHost, demo, name: str, params: dict) -> None:
    """nlpaug rejoins every token with a space ("I ' m", "covid - 19", "isn ' t"); subword
    tokenizers read that as other text than real posts. Augmented rows keep the source's spacing."""
    task, _ = demo
    rows = generated(run(build(host, name, n=2, grow="all", **params), task, SPACED))
    assert len(rows) >= 3
    for row in rows:
        source = next(p.text for p in SPACED if p.id == row.meta["source_id"])
        for artefact in (" ' ", " - ", " ,", " !", " .", "( "):
            assert artefact not in row.text or artefact in source, (artefact, row.text)
        if name not in ("nlpaug_random_word", "nlpaug_synonym"):  # (deletions; multi-word synonyms)
            assert len(row.text.split()) == len(source.split()), row.text  # substitutions keep every boundary


@pytest.mark.parametrize(("name", "params"), FAST, ids=[n for n, _ in FAST])
def test_nlpaug_augmenters_are_seeded_and_keep_labels(host: PluginHost, demo, name: str, params: dict) -> None:
    task, train = demo
    a = run(build(host, name, n=2, **params), task, train, seed=1)
    b = run(build(host, name, n=2, **params), task, train, seed=1)
    c = run(build(host, name, n=2, **params), task, train, seed=2)
    assert [(r.id, r.text, r.label) for r in a] == [(r.id, r.text, r.label) for r in b]
    assert [r.text for r in generated(a)] != [r.text for r in generated(c)]
    new = generated(a)
    assert len(new) >= 8  # 8 positives (the minority), up to 2 each
    by_id = {p.id: p for p in train}
    for row in new:
        source = by_id[row.meta["source_id"]]
        assert row.label == source.label == "1"
        assert row.text != source.text
        assert row.meta["augmenter"] == name and row.meta["params"]["n"] == 2
        assert row.id not in by_id
    assert [r for r in a if r.id in by_id] == train  # originals kept, unchanged, in order


def test_output_does_not_depend_on_order_or_global_rng(host: PluginHost, demo) -> None:
    task, train = demo
    random.seed(123)
    np.random.seed(123)
    first = {r.id: r.text for r in generated(run(build(host, "nlpaug_random_char"), task, train))}
    after_py, after_np = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(123)
    assert (random.random(), np.random.random()) == (after_py, after_np)  # global state restored
    random.seed(999)
    shuffled = list(reversed(train))
    second = {r.id: r.text for r in generated(run(build(host, "nlpaug_random_char"), task, shuffled))}
    assert first == second


def test_mentions_and_amp_are_restored() -> None:
    norm = normalise("@drsmith &amp; @nhs said positive")
    assert norm.text == "@xxuser & @xxuser said positive" and norm.mentions == ("@drsmith", "@nhs")
    assert restore("@xxuser & @ xxuser said posittive", norm) == "@drsmith &amp; @nhs said posittive"
    assert restore("@xxuser & said", norm) is None  # a lost placeholder is rejected, not mis-restored


def test_augmented_text_keeps_the_original_mentions(host: PluginHost, demo) -> None:
    task, train = demo
    rows = run(build(host, "nlpaug_keyboard", n=3), task, train)
    from_m1 = [r for r in rows if r.meta.get("source_id") == "m1"]
    assert from_m1
    for row in from_m1:
        assert row.text.count("@drsmith") == 1 and row.text.count("@nhs") == 1 and "&amp;" in row.text


class FailingKeyboard(NlpaugKeyboard):
    """The real keyboard augmenter, except that it raises on one post (as TextAttack did for ALEX)."""

    name = "failing_keyboard"

    def build_generator(self) -> Callable[[str, int], list[str]]:
        real = super().build_generator()

        def generate(text: str, n: int) -> list[str]:
            if "xxuser" in text:
                raise ValueError("cannot augment this one")
            return real(text, n)

        return generate


def test_errors_are_counted_and_the_post_kept(demo) -> None:
    task, train = demo
    aug = FailingKeyboard.from_params({"n": 2})
    log: list[str] = []
    rows = aug.augment(list(train), Context(task=task, seed=1, log=log.append))
    assert isinstance(aug, GrowingAugmenter)
    report = aug.last_report
    assert report["errors"] == 1 and report["errors_by_type"] == {"ValueError": 1}
    assert report["error_examples"][0]["id"] == "m1"
    assert "m1" in {r.id for r in rows}  # kept, unaugmented
    assert not [r for r in rows if r.meta.get("source_id") == "m1"]
    assert len({r.meta["source_id"] for r in generated(rows)}) == 7  # the other positives were augmented
    assert any(line.startswith("WARNING augmenter failing_keyboard") for line in log)


def test_resample_over_and_under(host: PluginHost, demo) -> None:
    task, train = demo
    over = run(build(host, "resample"), task, train)
    assert Counter(r.label for r in over) == {"0": 16, "1": 16}
    copies = [r for r in over if r.meta.get("copy")]
    assert len(copies) == 8 and all(r.text == {p.id: p for p in train}[r.meta["copy_of"]].text for r in copies)
    under = run(build(host, "resample", oversample_to=0.0, balance="ratio"), task, train)
    assert Counter(r.label for r in under) == {"0": 8, "1": 8}
    assert set(r.id for r in under) <= {p.id for p in train}
    assert run(build(host, "resample", oversample_to=0.0, balance="ratio"), task, train, seed=2) != under


def test_copies_are_never_augmented_again(host: PluginHost, demo) -> None:
    task, train = demo
    over = run(build(host, "resample"), task, train)
    aug = build(host, "nlpaug_random_word", grow="1", n=1)
    rows = run(aug, task, over)
    assert aug.last_report["sources"] == 8  # the 8 original positives, not their 8 copies
    assert all(not r.meta["source_id"].count("#copy") for r in generated(rows))


def test_balance_by_count_and_preset_values() -> None:
    p = AlexParams(preset="smm4h23_task2")
    assert (p.grow, p.n, p.balance, p.target_count) == ("positive,negative", 10, "count", 2000)
    assert AlexParams(preset="smm4h23_task2", n=3).n == 3  # a parameter you set wins
    t4 = AlexParams(preset="smm4h23_task4")
    assert (t4.n, t4.oversample_to, t4.balance, t4.ratio) == (3, 1.0, "ratio", 1.0)
    from alexbench.errors import ParamError

    with pytest.raises(ParamError, match="parameter 'preset' expects one of '', 'smm4h23_task1', 'smm4h23_task2', "
                                         "'smm4h23_task4', got 'task9'"):
        PluginHost().build("augmenter", "alex_textattack", {"preset": "task9"})


def test_bad_params_are_clear_errors(host: PluginHost) -> None:
    from alexbench.errors import ParamError

    with pytest.raises(ParamError, match="parameter 'balance' expects one of 'none', 'ratio', 'count', got 'equal'"):
        host.build("augmenter", "resample", {"balance": "equal"})
    with pytest.raises(ParamError, match="has no parameter 'nn'"):
        host.build("augmenter", "nlpaug_ocr", {"nn": 2})


def test_grow_names_unknown_labels(host: PluginHost, demo) -> None:
    task, train = demo
    with pytest.raises(ValueError, match="not among the task's labels"):
        run(build(host, "nlpaug_ocr", grow="positive"), task, train)


# -- TextAttack (one import for the module) -------------------------------------------------------

def test_alex_textattack_balances_deterministically(host: PluginHost, demo) -> None:
    task, train = demo
    a = build(host, "alex_textattack", n=3)
    rows = run(a, task, train, seed=7)
    again = run(build(host, "alex_textattack", n=3), task, train, seed=7)
    other = run(build(host, "alex_textattack", n=3), task, train, seed=8)
    assert [(r.id, r.text) for r in rows] == [(r.id, r.text) for r in again]
    assert [r.text for r in generated(rows)] != [r.text for r in generated(other)]
    assert Counter(r.label for r in rows) == {"0": 16, "1": 16}  # 8 positives ×(1+3) = 32, cut to 1:1
    assert all(p in rows for p in train if p.label == "1")  # originals are kept first when cutting
    report = a.last_report
    assert report["errors"] == 0 and report["grown_classes"] == ["1"]
    # survivors first: 8 of the 24 (post, copy) pairs are made, so nothing is cut afterwards
    assert (report["pairs"], report["pairs_examined"], report["undersampled"]) == (24, 8, {})
    all_then_cut = build(host, "alex_textattack", n=3, survivors_first=False)
    assert [(r.id, r.text) for r in run(all_then_cut, task, train, seed=7)] == [(r.id, r.text) for r in rows]
    assert all_then_cut.last_report["undersampled"] == {"1": 16}
    for row in generated(rows):
        assert row.meta["operation"] == "textattack_composite" and row.label == "1"
    m1 = [r for r in rows if r.meta.get("source_id") == "m1"]
    assert all("@drsmith" in r.text and "@nhs" in r.text for r in m1)


def test_eda(host: PluginHost, demo) -> None:
    task, train = demo
    rows = run(build(host, "eda", n=2), task, train)
    assert rows == run(build(host, "eda", n=2), task, train)
    assert len(generated(rows)) >= 8 and all(r.label == "1" for r in generated(rows))


# -- the runner: provenance, train only, bit-identical reruns -------------------------------------

def test_runner_provenance_and_identical_reruns(tiny_task_file: Path, tmp_path: Path) -> None:
    from alexbench.run.store import ResultsStore

    variant = VariantSpec("kb", ComponentSpec("tfidf_logreg"),
                          (ComponentSpec("nlpaug_keyboard", {"n": 3, "balance": "ratio"}),))
    task = load_task(tiny_task_file)
    outcomes = []
    for store_dir in ("a", "b"):
        runner = Runner(PluginHost(), ResultsStore(tmp_path / store_dir), show_progress=False)
        outcomes.append(runner.run(task, variant, seed=3))
    one, two = (o.run for o in outcomes)
    prov = one.provenance()
    aug = prov["augmentation"]
    assert aug["before"] == {"0": 12, "1": 6}
    assert aug["after"]["0"] == aug["after"]["1"] == 12  # grown 6 → 24, cut to 1:1
    step = aug["steps"][0]
    assert step["augmenter"]["name"] == "nlpaug_keyboard" and step["augmenter"]["params"]["n"] == 3
    assert any(line.startswith("augmenter nlpaug_keyboard:") for line in prov["log"])
    preds = [(p / "predictions.jsonl").read_bytes() for p in (one.path, two.path)]
    assert preds[0] == preds[1]
    cached = list((tmp_path / "a").rglob("augment/*.jsonl"))
    assert len(cached) == 1 and cached[0].read_bytes() == next((tmp_path / "b").rglob("augment/*.jsonl")).read_bytes()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80), st.data())
@settings(max_examples=300, deadline=None)
def test_spacing_survives_any_deletion_or_swap(text: str, data) -> None:
    """The tokenizer pair handed to nlpaug: split then join gives the text back (whitespace runs as
    one space); after deleting tokens or swapping two, every kept token has its own spacing."""
    from alexbench_augment.spacing import join_with_spacing, tokens_with_spacing

    tokens, spaces = tokens_with_spacing(text)
    assert join_with_spacing(tokens, spaces, tokens) == " ".join(text.split())
    keep = data.draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens)))
    kept = [(t, s) for t, s, k in zip(tokens, spaces, keep) if k]
    # (Which of two identical tokens was deleted cannot be told from the output: unique tokens only.)
    if kept and len(kept) < len(tokens) and len(set(tokens)) == len(tokens):
        expected = "".join((" " if s and i else "") + t for i, (t, s) in enumerate(kept))
        assert join_with_spacing(tokens, spaces, [t for t, _ in kept]) == expected
    # Swaps too: with a token there twice (":\x85:0" swapped to "0::"), which ':' took which spacing
    # cannot be told from the output, and either reading is right.
    if len(tokens) >= 2 and len(set(tokens)) == len(tokens):
        i, j = data.draw(st.tuples(st.integers(0, len(tokens) - 1), st.integers(0, len(tokens) - 1)))
        assume(i != j)
        order = list(range(len(tokens)))
        order[i], order[j] = order[j], order[i]
        expected = "".join((" " if spaces[k] and n else "") + tokens[k] for n, k in enumerate(order))
        assert join_with_spacing(tokens, spaces, [tokens[k] for k in order]) == expected
