"""Real leaderboards for the HTML, plot and LaTeX tests: real runs of real (cheap) components on the
demo task and on the tiny task, stored in a temporary results store and aggregated by
alexbench.report.leaderboard.build with a baseline and real paired significance tests."""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path

from alexbench import hookimpl
from alexbench.config.tasks import load_task
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.interfaces import Explainer, Explanation
from alexbench.plugin.host import PluginHost
from alexbench.report import leaderboard as lb
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

from .conftest import REPO, make_tiny_task

OTHERS = ("my mum", "my dad", "my wife", "my husband", "my sister", "my brother", "governor", "breaking", "minister")


@dataclass(frozen=True)
class VetoParams:
    words: tuple[str, ...] = OTHERS


class ThirdPartyVeto(Explainer):
    """A rule-based stand-in for the LLM explainer: a positive prediction does not hold when the
    post is about someone else (a relative, a politician, news)."""

    name = "third_party_veto"
    version = "1.0"
    Params = VetoParams

    def explain(self, posts, prediction, ctx):
        out = []
        for post, label in zip(posts, prediction.labels):
            if label != ctx.task.positive:
                out.append(Explanation(post.id, label, label, "not_sent"))
            elif any(w in post.text.lower() for w in self.params.words):
                out.append(Explanation(post.id, label, "0", "ok", False, "about someone else"))
            else:
                out.append(Explanation(post.id, label, label, "ok", True, "a self-report"))
        return out


PLUGIN = types.SimpleNamespace(
    alexbench_register_explainers=hookimpl(lambda registry: registry.add(ThirdPartyVeto)),
)

# A variant name and a parameter value with characters that HTML and LaTeX must escape.
NASTY = 'tfidf <img src=x onerror="alert(1)"> & 50%_{C}'
BALANCED = {"class_weight": "balanced"}
VARIANTS = [
    VariantSpec("majority", ComponentSpec("majority")),
    VariantSpec("tfidf", ComponentSpec("tfidf_logreg")),
    VariantSpec("tfidf-balanced", ComponentSpec("tfidf_logreg", BALANCED)),
    VariantSpec(NASTY, ComponentSpec("tfidf_logreg", {**BALANCED, "C": 0.25})),
    VariantSpec("oversample+tfidf", ComponentSpec("tfidf_logreg", {"C": 16.0}), augmenters=(ComponentSpec("resample"),)),
    VariantSpec("tfidf-balanced+veto", ComponentSpec("tfidf_logreg", BALANCED),
                explainer=ComponentSpec("third_party_veto")),
]
SEEDS = (1, 2)


def make_boards(root: Path, *, tasks: tuple[str, ...] = ("demo", "tiny")) -> list[lb.Leaderboard]:
    """Run every variant × seed on the demo task (and the tiny task) and build the leaderboards
    against the majority baseline."""
    host = PluginHost(plugins=[("leaderboard-test-plugin", PLUGIN)], disabled=[], trace=False)
    store = ResultsStore(root / "results")
    runner = Runner(host, store, show_progress=False)
    specs = {"demo": load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")}
    if "tiny" in tasks:
        specs["tiny"] = load_task(make_tiny_task(root / "tasks"))
    for name in tasks:
        for variant in VARIANTS:
            for seed in SEEDS:
                outcome = runner.run(specs[name], variant, seed)
                assert outcome.ok, outcome
    return lb.build(store, baseline="majority", metrics=host.metrics, n_boot=200)
