"""Every shipped study resolves: its variants exist and their parameters are valid."""

from __future__ import annotations

import pytest

from alexbench.config.studies import load_study
from alexbench.config.tasks import TaskCatalog
from alexbench.config.variants import VariantCatalog
from alexbench.plugin.host import PluginHost
from alexbench.run.runner import Runner
from alexbench.run.store import ResultsStore

HOST = PluginHost()
CATALOG = TaskCatalog(HOST.task_dirs())


@pytest.mark.parametrize("name", sorted(CATALOG.study_files))
def test_shipped_study_resolves(name: str, tmp_path) -> None:
    study = load_study(CATALOG.study_files[name], VariantCatalog(CATALOG.variant_files))
    assert study.tasks and study.seeds and study.baseline in {v.name for v in study.variants}
    runner = Runner(HOST, ResultsStore(tmp_path), show_progress=False)
    for variant in study.variants:
        parts = runner.build(variant)  # validates every parameter against the component's Params
        assert parts.classifier.name == variant.classifier.name
    for task in study.tasks:
        assert task in CATALOG.names()


def test_ablation_steps_differ_by_one_stage() -> None:
    study = load_study(CATALOG.study_files["alex-ablation"], VariantCatalog(CATALOG.variant_files))
    v = {x.name: x for x in study.variants}
    base, full = v["minilm"], v["alex-full"]
    assert not base.augmenters and base.explainer is None and base.classifier.params["loss"] == "ce"
    assert v["minilm+aug"].augmenters and v["minilm+aug"].classifier == base.classifier
    assert v["minilm-balanced"].classifier.params["loss"] == "weighted_ce" and not v["minilm-balanced"].augmenters
    weighted = v["minilm-weighted"].classifier.params
    assert weighted["loss"] == "weighted_ce" and weighted["class_weights"] == [1.0, 2.0]  # the paper's, fixed
    assert v["minilm+llm"].explainer is not None and v["minilm+llm"].classifier == base.classifier
    assert full.augmenters == v["minilm+aug"].augmenters and full.explainer == v["minilm+llm"].explainer
    # Not the frequency weights: after the augmentation balances the classes they are all 1.
    assert full.classifier == v["minilm-weighted"].classifier
