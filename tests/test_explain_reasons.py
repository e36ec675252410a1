"""`alexbench explain --reasons` with an explainer that cannot give reasons afterwards: a clear
error naming it, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import AlexbenchError
from alexbench.plugin.host import PluginHost
from alexbench.run.explanations import explained_rows, fill_reasons
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

from .conftest import REPO
from .leaderboard_runs import PLUGIN


def test_an_explainer_without_reasons_is_named_in_the_error(tmp_path: Path) -> None:
    host = PluginHost(plugins=[("veto", PLUGIN)], disabled=[], trace=False)
    store = ResultsStore(tmp_path / "results")
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    variant = VariantSpec("tfidf+veto", ComponentSpec("tfidf_logreg", {"class_weight": "balanced"}),
                          explainer=ComponentSpec("third_party_veto"))
    run = Runner(host, store, show_progress=False).run(task, variant, 1).run
    rows = [r for r in explained_rows(run) if r["status"] == "ok"]
    assert rows and all(r["reason"] for r in rows)
    for row in rows:
        row["reason"] = ""  # as if stored without one
    with pytest.raises(AlexbenchError, match="explainer 'third_party_veto' cannot give reasons afterwards"):
        fill_reasons(store, run, rows, None, host=host)
