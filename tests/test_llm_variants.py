"""Variant files of the LLM explainer: 'extends' across variant files (core change in spec.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alexbench.config.tasks import TaskCatalog
from alexbench.config.variants import VariantCatalog
from alexbench.errors import TaskFileError, UnknownNameError
from alexbench.plugin.host import PluginHost

REPO = Path(__file__).resolve().parents[1]


def test_llm_variants_extend_builtin_variants_of_another_file() -> None:
    catalog = VariantCatalog(TaskCatalog(PluginHost().task_dirs()).variant_files)
    llm, base = catalog.get("tfidf-balanced+llm"), catalog.get("tfidf-balanced")
    assert llm.classifier == base.classifier and llm.augmenters == base.augmenters
    assert base.explainer is None and llm.explainer is not None and llm.explainer.name == "llm"
    assert llm.explainer.params["model"] == "local/gemma-3-270m"
    assert llm.source.endswith("llm_variants.toml") and base.source.endswith("variants.toml")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_across_files_resolves_chains_and_reports_errors(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.toml", '[variants.base]\nclassifier = { name = "majority" }\n'
               '[variants.mid]\nextends = "top"\ndescription = "mid"\n')
    b = _write(tmp_path / "b.toml", '[variants.top]\nextends = "base"\nexplainer = { name = "llm", params = { seed = 3 } }\n')
    catalog = VariantCatalog([a, b])
    assert catalog.get("mid").classifier.name == "majority" and catalog.get("mid").explainer.params == {"seed": 3}
    assert catalog.get("mid").source == str(a) and catalog.get("top").source == str(b)
    # A cycle through two files, a duplicate name and an unknown base are errors.
    c = _write(tmp_path / "c.toml", '[variants.x]\nextends = "y"\n')
    d = _write(tmp_path / "d.toml", '[variants.y]\nextends = "x"\n')
    with pytest.raises(TaskFileError, match="'extends' cycle"):
        VariantCatalog([c, d])
    dup = _write(tmp_path / "dup.toml", '[variants.base]\nclassifier = { name = "majority" }\n')
    with pytest.raises(TaskFileError, match=f"variants.base: already defined in {a}"):
        VariantCatalog([a, b, dup])
    with pytest.raises(UnknownNameError, match="unknown variant 'top'"):
        VariantCatalog([a])


def test_prompt_template_content_is_part_of_the_run_spec(tmp_path) -> None:
    """Editing a prompt template changes the explainer's fingerprint, hence the run id."""
    import shutil

    from alexbench.config.tasks import TaskCatalog
    from alexbench.plugin.host import PluginHost

    host = PluginHost()
    task = TaskCatalog(host.task_dirs()).load("demo")
    template = tmp_path / "demo.toml"
    shutil.copy(task.path.parent / "prompts" / "demo.toml", template)
    explainer = host.build("explainer", "llm", {"prompts": str(template)})
    before = explainer.fingerprint(task)
    assert before["prompt_template_sha256"] and before["prompt_template"] == str(template)
    template.write_text(template.read_text() + "\n# edited\n")
    assert explainer.fingerprint(task)["prompt_template_sha256"] != before["prompt_template_sha256"]
    # The task's own template is named relative to the task folder: the run id is the same in
    # every checkout of the project (it once held /work/main/... and differed per clone).
    own = host.build("explainer", "llm", {}).fingerprint(task)
    assert own["prompt_template"] == "prompts/demo.toml"


def test_verdict_and_threshold_parameters_are_checked() -> None:
    from alexbench_llm.explainer import LLMExplainer

    from alexbench.errors import ParamError

    assert LLMExplainer.from_params({"verdict": "score", "threshold": 0.7}).params.threshold == 0.7
    assert LLMExplainer.from_params({"verdict": "score"}).params.threshold == "dev"
    for bad, message in (({"verdict": "vote"}, "parameter 'verdict' expects one of 'generate', 'score', got 'vote'"),
                         ({"threshold": "0.5"}, "parameter 'threshold' expects a number in \\[0, 1\\] or 'dev', got '0.5'"),
                         ({"threshold": 1.5}, "parameter 'threshold' expects a number in \\[0, 1\\] or 'dev', got 1.5"),
                         ({"threshold": True}, "parameter 'threshold' expects a number in \\[0, 1\\] or 'dev', got True"),
                         ({"retry_after_max_s": -1.0}, "parameter 'retry_after_max_s' expects a number >= 0, got -1.0")):
        with pytest.raises(ParamError, match=message):
            LLMExplainer.from_params(bad)
