"""Only the copies that survive are made, on every core, and nothing about the output changes:
survivors first = make everything then cut; a process pool = one process; any order of the posts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from alexbench_augment import workers

from alexbench.config.tasks import load_task
from alexbench.data.splits import load_dataset
from alexbench.interfaces import Context, Post
from alexbench.plugin.host import PluginHost

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    return task, list(load_dataset(task).train)  # 300 negatives, 60 positives


def rows_of(aug, task, train: list[Post], seed: int = 1) -> list[tuple]:
    out = aug.augment(list(train), Context(task=task, seed=seed))
    return [(r.id, r.text, r.label, dict(r.meta)) for r in out]


CASES = {
    "ALEX Task 1 recipe (minority x10, 1:1)": ("alex_textattack", {"preset": "smm4h23_task1"}),
    "ALEX, cap 1.5:1": ("alex_textattack", {"n": 10, "ratio": 1.5}),
    "ALEX, both classes to a count": ("alex_textattack", {"grow": "all", "n": 2, "balance": "count",
                                                          "target_count": 250}),
    "nlpaug keyboard x5, 1:1": ("nlpaug_keyboard", {"n": 5, "balance": "ratio"}),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_survivors_first_gives_the_rows_of_make_all_then_cut(demo, case: str) -> None:
    task, train = demo
    name, params = CASES[case]
    host = PluginHost()
    lazy = host.build("augmenter", name, {**params, "workers": 1})
    eager = host.build("augmenter", name, {**params, "workers": 1, "survivors_first": False})
    assert rows_of(lazy, task, train) == rows_of(eager, task, train)
    assert lazy.describe() == eager.describe()  # not part of the run spec or the cache key
    made, all_made = lazy.last_report, eager.last_report
    assert made["pairs_examined"] < all_made["pairs_examined"] == all_made["pairs"]
    assert made["counts_after"] == all_made["counts_after"]
    if name == "alex_textattack":  # a lazy engine makes only what it examines; nlpaug makes a post's n at once
        assert made["copies_made"] <= made["pairs_examined"] < all_made["copies_made"]


def test_a_process_pool_gives_the_rows_of_one_process(demo) -> None:
    task, train = demo
    host = PluginHost()
    params = {"preset": "smm4h23_task1", "n": 6}
    serial = host.build("augmenter", "alex_textattack", {**params, "workers": 1})
    pooled = host.build("augmenter", "alex_textattack", {**params, "workers": 2})
    workers.shutdown()
    assert rows_of(pooled, task, train, seed=3) == rows_of(serial, task, train, seed=3)
    assert workers._POOLS  # the pool really ran
    assert pooled.describe() == serial.describe() and pooled.last_report == serial.last_report
    # the batch interface (a library that makes a post's copies at once) through the pool too
    kb = {"n": 3, "balance": "ratio"}
    assert rows_of(host.build("augmenter", "nlpaug_keyboard", {**kb, "workers": 2}), task, train) == rows_of(
        host.build("augmenter", "nlpaug_keyboard", {**kb, "workers": 1}), task, train)


def test_the_rows_do_not_depend_on_the_order_of_the_posts(demo) -> None:
    task, train = demo
    host = PluginHost()
    shuffled = list(train)
    random.Random(5).shuffle(shuffled)
    one = rows_of(host.build("augmenter", "alex_textattack", {"n": 4}), task, train)
    two = rows_of(host.build("augmenter", "alex_textattack", {"n": 4}), task, shuffled)
    assert sorted(one, key=lambda r: r[0]) == sorted(two, key=lambda r: r[0])


def test_engine_is_part_of_the_run_spec_and_textattack_stays_available(demo) -> None:
    task, train = demo
    host = PluginHost()
    fast = host.build("augmenter", "alex_textattack", {"n": 2})
    faithful = host.build("augmenter", "alex_textattack", {"n": 2, "engine": "textattack"})
    assert fast.describe()["params"]["engine"] == "fast" and faithful.describe()["params"]["engine"] == "textattack"
    assert "workers" not in fast.describe()["params"] and "survivors_first" not in fast.describe()["params"]
    small = train[:20] + [p for p in train if p.label == "1"][:5]
    rows = rows_of(faithful, task, small)
    assert len([r for r in rows if r[2] == "1"]) == len([r for r in rows if r[2] == "0"])
    from alexbench.errors import ParamError

    with pytest.raises(ParamError, match="parameter 'engine' expects one of 'fast', 'textattack', got 'quick'"):
        host.build("augmenter", "alex_textattack", {"engine": "quick"})
    with pytest.raises(ParamError, match="parameter 'workers' expects an integer >= 0 \\(0 = all cores\\), got -1"):
        host.build("augmenter", "alex_textattack", {"workers": -1})


def test_an_augmenter_class_that_cannot_reach_a_worker_runs_in_one_process(demo) -> None:
    from alexbench_augment.textattack_aug import AlexTextAttack

    task, train = demo

    class Local(AlexTextAttack):  # defined in a function: worker processes cannot import it
        name = "local_alex"

    log: list[str] = []
    rows = Local.from_params({"n": 2, "workers": 2}).augment(list(train), Context(task=task, seed=1, log=log.append))
    assert [r.text for r in rows] == [r[1] for r in rows_of(Local.from_params({"n": 2, "workers": 1}), task, train)]
    assert any("one process (its class cannot be sent to worker processes" in line for line in log)
