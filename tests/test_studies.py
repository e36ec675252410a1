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


def test_the_three_seed_multilabel_study_extends_the_quick_one() -> None:
    variants = VariantCatalog(CATALOG.variant_files)
    quick = load_study(CATALOG.study_files["vaccine-concerns"], variants)
    seeds = load_study(CATALOG.study_files["vaccine-concerns-seeds"], variants)
    assert quick.seeds == (1,) and seeds.seeds == (1, 2, 3)
    assert seeds.variants == quick.variants and seeds.tasks == quick.tasks and seeds.baseline == quick.baseline
    assert seeds.name == "vaccine-concerns-seeds" and seeds.description != quick.description


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_an_extending_study_takes_the_parents_variants_and_overrides_what_it_gives(tmp_path) -> None:
    _write(tmp_path / "parent.toml", """[study]
name = "parent"
tasks = ["demo"]
variants = ["majority", "mine"]
seeds = [1]
baseline = "majority"
[variants.mine]
extends = "tfidf"
classifier = { params = { C = 2.0 } }
""")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "child.toml", """[study]
extends = "../parent.toml"
name = "child"
seeds = [1, 2]
[variants.mine]
extends = "tfidf"
classifier = { params = { C = 3.0 } }
""")
    variants = VariantCatalog(CATALOG.variant_files)
    child = load_study(tmp_path / "sub" / "child.toml", variants)
    assert child.name == "child" and child.seeds == (1, 2) and child.tasks == ("demo",) and child.baseline == "majority"
    mine = {v.name: v for v in child.variants}["mine"]
    assert mine.classifier.params["C"] == 3.0  # the child's table replaces the parent's
    assert load_study(tmp_path / "parent.toml", variants).variants[1].classifier.params["C"] == 2.0


@pytest.mark.parametrize(("child", "field", "message"), [
    ('[study]\nextends = "nowhere.toml"\nname = "c"\n', "study.extends", "no study file"),
    ('[study]\nextends = "child.toml"\nname = "c"\n', "study.extends", "a cycle"),
    ('[study]\nextends = "parent.toml"\n', "study.name", "is required in a study that extends another"),
    ('[study]\nextends = 3\nname = "c"\n', "study.extends", "expected a string"),
])
def test_a_bad_study_extends_is_refused_with_file_and_field(tmp_path, child: str, field: str, message: str) -> None:
    from alexbench.errors import TaskFileError

    _write(tmp_path / "parent.toml", '[study]\nname = "p"\ntasks = ["demo"]\nvariants = ["majority"]\n')
    path = _write(tmp_path / "child.toml", child)
    with pytest.raises(TaskFileError) as err:
        load_study(path, VariantCatalog(CATALOG.variant_files))
    assert err.value.path == path and err.value.field == field and message in str(err.value)


def test_an_error_in_the_extended_study_names_that_file(tmp_path) -> None:
    from alexbench.errors import TaskFileError

    parent = _write(tmp_path / "parent.toml", '[study]\nname = "p"\ntasks = ["demo"]\nvariants = ["majority"]\n'
                                              'seeds = [1, 1]\n')
    _write(tmp_path / "child.toml", '[study]\nextends = "parent.toml"\nname = "c"\nseeds = [2]\n')
    with pytest.raises(TaskFileError) as err:
        load_study(tmp_path / "child.toml", VariantCatalog(CATALOG.variant_files))
    assert err.value.path == parent and err.value.field == "study.seeds[1]"
