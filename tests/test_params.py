"""Params: checked when a component is registered (a default of its declared type for every
field), and values from variant files and the command line checked against the same types."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import AfterValidator, Field

from alexbench import hookimpl
from alexbench.config.params import build_params, check_params_class, check_value, expected, field_types, parse_text
from alexbench.errors import ParamError, PluginError
from alexbench.interfaces import Classifier, Prediction
from alexbench.plugin.host import PluginHost


@dataclass(frozen=True)
class Good:
    C: float = 1
    n: int = 3
    on: bool = True
    name: str = "x"
    loss: Literal["hinge", "squared_hinge"] = "hinge"
    cap: int | None = None
    weights: list[float] = field(default_factory=lambda: [1, 2])
    pair: tuple[str, ...] = ("a", "b")
    table: dict[str, int] = field(default_factory=dict)
    anything: Any = object()
    workers: int = field(default=0, metadata={"affects_output": False})


def test_a_params_class_following_the_rules_passes() -> None:
    check_params_class("classifier 'good'", Good)
    assert field_types(Good)["cap"] == int | None


@dataclass(frozen=True)
class NoDefault:
    C: float


@dataclass(frozen=True)
class StrForFloat:
    C: float = "1.0"


@dataclass(frozen=True)
class IntForBool:
    fit_intercept: bool = 1


@dataclass(frozen=True)
class BoolForInt:
    n: int = True


@dataclass(frozen=True)
class BadLiteral:
    loss: Literal["hinge", "squared_hinge"] = "log"


@dataclass(frozen=True)
class BadListItem:
    weights: list[float] = field(default_factory=lambda: [1.0, "2"])


@dataclass(frozen=True)
class Unsupported:
    folder: type = int


@dataclass(frozen=True)
class RejectsItsDefaults:
    C: float = 0.0

    def __post_init__(self) -> None:
        if self.C <= 0:
            raise ValueError("C must be > 0")


class NotADataclass:
    C = 1.0


@dataclass(frozen=True)
class UnknownName:
    folder: Folder = None  # noqa: F821 - a name only a type checker would know


@pytest.mark.parametrize(("params", "message"), [
    (NoDefault, "classifier 'x': NoDefault.C has no default; every parameter needs one, so that a variant may leave "
                "it out (e.g. C: float = 1.0) (defined at "),
    (StrForFloat, "StrForFloat.C is declared float but its default '1.0' is a str; give it a default that is a "
                  "number (e.g. C: float = 1.0)"),
    (IntForBool, "IntForBool.fit_intercept is declared bool but its default 1 is an int; give it a default that is "
                 "true/false (e.g. fit_intercept: bool = False)"),
    (BoolForInt, "BoolForInt.n is declared int but its default True is a bool"),
    (BadLiteral, "BadLiteral.loss is declared Literal['hinge', 'squared_hinge'] but its default 'log' is a str; give "
                 "it a default that is one of 'hinge', 'squared_hinge'"),
    (BadListItem, "BadListItem.weights is declared list[float] but its default [1.0, '2'] is a list; give it a "
                  "default that is a list of numbers"),
    (Unsupported, "Unsupported.folder is declared type, which a variant file cannot give; declare bool, int, float"),
    (RejectsItsDefaults, "RejectsItsDefaults() rejects its own defaults: ValueError: C must be > 0"),
    (NotADataclass, "Params must be a dataclass declaring every parameter with its default"),
    (UnknownName, "classifier 'x': UnknownName.folder: its type 'Folder' cannot be resolved (NameError: name 'Folder' "
                  "is not defined); import the names it uses at module level"),
])
def test_each_rule_has_a_message_saying_what_to_write(params: type, message: str) -> None:
    with pytest.raises(PluginError) as info:
        check_params_class("classifier 'x'", params)
    assert message in str(info.value)


def test_values_are_checked_against_the_same_types() -> None:
    types_ = field_types(Good)
    assert check_value("c", "C", 2, types_["C"]) == 2.0 and isinstance(check_value("c", "C", 2, types_["C"]), float)
    assert check_value("c", "weights", [1, 2.5], types_["weights"]) == [1.0, 2.5]
    assert check_value("c", "pair", ["x"], types_["pair"]) == ("x",)
    assert check_value("c", "cap", 5, types_["cap"]) == 5
    for key, value, words in (("n", 2.0, "an integer"), ("on", 1, "true/false"), ("loss", "log", "one of 'hinge'"),
                              ("cap", "5", "an integer or nothing"), ("table", {"a": "b"}, "a table of integers"),
                              ("weights", ["x"], "a list of numbers")):
        with pytest.raises(ParamError, match=f"c: parameter '{key}' expects {words}"):
            check_value("c", key, value, types_[key])
    assert expected(types_["anything"]) == "anything"


def test_command_line_text_is_read_with_the_field_type() -> None:
    assert parse_text(Good, "name", "1") == "1"  # a string parameter takes the text as typed
    assert parse_text(Good, "n", "10") == 10 and parse_text(Good, "C", "0.5") == 0.5
    assert parse_text(Good, "on", "false") is False and parse_text(Good, "weights", "[1, 2]") == [1, 2]
    assert parse_text(Good, "unknown", "abc") == "abc"  # from_params then names the unknown key


class Svm(Classifier):
    name = "svm"
    version = "1"

    def fit(self, train, dev, ctx):
        return {}

    def predict(self, posts, ctx):
        return Prediction([], [])


def test_a_component_with_broken_params_leaves_only_its_plugin_out() -> None:
    class BadSvm(Svm):
        Params = StrForFloat

    plugin = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(BadSvm)))
    host = PluginHost(plugins=[("svm-plugin", plugin)])
    assert "svm" not in host.classifiers and "tfidf_logreg" in host.classifiers
    (broken,) = host.broken
    assert broken.name == "svm-plugin" and broken.error.startswith("classifier 'svm': StrForFloat.C is declared float")
    assert broken.where is not None and broken.where.endswith(f"{__file__}:{_line_of('registry.add(BadSvm)')}")
    with pytest.raises(Exception, match="unknown classifier 'svm'.*Left out: plugin 'svm-plugin' \\(\\?\\): "
                                        "classifier 'svm': StrForFloat.C is declared float"):
        host.build("classifier", "svm")


def _line_of(text: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line and "_line_of" not in line)


def _even(n: int) -> int:
    if n % 2:
        raise ValueError("an odd number of heads cannot be split")
    return n


@dataclass(frozen=True)
class Ranged:
    depth: Annotated[int, Field(ge=1)] = 2
    share: Annotated[float, Field(gt=0, le=1)] = 0.5
    kernel: Literal["linear", "rbf", "poly"] = "linear"
    weights: list[Annotated[float, Field(gt=0)]] | None = None
    layers: dict[str, tuple[int, ...]] = field(default_factory=dict)
    heads: Annotated[int, AfterValidator(_even)] = 2
    threshold: Annotated[float, Field(ge=0, le=1)] | Literal["dev"] = "dev"


class RangedSvm(Svm):
    name = "ranged_svm"
    Params = Ranged


@pytest.fixture(scope="module")
def ranged_host() -> PluginHost:
    plugin = types.SimpleNamespace(alexbench_register_classifiers=hookimpl(lambda registry: registry.add(RangedSvm)))
    host = PluginHost(plugins=[("ranged-plugin", plugin)])
    assert "ranged_svm" in host.classifiers and not host.broken
    return host


@pytest.mark.parametrize(("params", "message"), [
    ({"depth": 0}, "classifier 'ranged_svm': parameter 'depth' expects an integer >= 1, got 0"),
    ({"depth": 2.0}, "parameter 'depth' expects an integer >= 1, got 2.0"),
    ({"share": 0}, "parameter 'share' expects a number in (0, 1], got 0"),
    ({"share": True}, "parameter 'share' expects a number in (0, 1], got True"),
    ({"kernel": "rbff"}, "parameter 'kernel' expects one of 'linear', 'rbf', 'poly', got 'rbff'. Did you mean 'rbf'?"),
    ({"weights": [1, -2]}, "parameter 'weights' expects a list of positive numbers or nothing, got [1, -2] ([1] is -2)"),
    ({"weights": "1,2"}, "parameter 'weights' expects a list of positive numbers or nothing, got '1,2'"),
    ({"layers": {"a": [1, "2"]}}, "parameter 'layers' expects a table of (a list of integers), got {'a': [1, '2']} "
                                  "(['a'][1] is '2')"),
    ({"heads": 3}, "parameter 'heads' expects an integer, got 3 (an odd number of heads cannot be split)"),
    ({"threshold": "0.5"}, "parameter 'threshold' expects a number in [0, 1] or 'dev', got '0.5'"),
    ({"dept": 3}, "classifier 'ranged_svm' has no parameter 'dept'. Did you mean 'depth'? Known: depth, heads, kernel,"),
])
def test_values_from_a_variant_are_checked_by_pydantic_with_alexbench_messages(ranged_host: PluginHost, params: dict,
                                                                               message: str) -> None:
    with pytest.raises(ParamError) as info:
        ranged_host.build("classifier", "ranged_svm", params)
    assert message in str(info.value)
    assert "pydantic" not in str(info.value) and "errors.pydantic.dev" not in str(info.value)


def test_values_are_converted_as_toml_needs_and_recorded_as_before(ranged_host: PluginHost) -> None:
    svm = ranged_host.build("classifier", "ranged_svm", {"share": 1, "weights": [1, 2.5], "layers": {"a": [1, 2]},
                                                         "threshold": 1, "heads": 4})
    assert svm.params == Ranged(share=1.0, weights=[1.0, 2.5], layers={"a": (1, 2)}, threshold=1.0, heads=4)
    assert isinstance(svm.params.share, float) and isinstance(svm.params.threshold, float)
    assert svm.describe()["params"] == {"depth": 2, "share": 1.0, "kernel": "linear", "weights": [1.0, 2.5],
                                        "layers": {"a": [1, 2]}, "heads": 4, "threshold": 1.0}
    assert ranged_host.build("classifier", "ranged_svm", {"weights": None}).params.weights is None


@dataclass(frozen=True)
class OutOfItsRange:
    depth: Annotated[int, Field(ge=1)] = 0


def test_a_default_outside_its_declared_range_leaves_the_plugin_out() -> None:
    with pytest.raises(PluginError, match="classifier 'x': OutOfItsRange.depth is declared int but its default 0 is "
                                          "not an integer >= 1 \\(defined at "):
        check_params_class("classifier 'x'", OutOfItsRange)


def test_a_literal_of_numbers_does_not_take_true_for_1() -> None:
    with pytest.raises(ParamError, match="parameter 'level' expects one of 1, 2, got True"):
        check_value("c", "level", True, Literal[1, 2])
    assert build_params("c", Good, {"loss": "squared_hinge"}).loss == "squared_hinge"


def test_built_in_params_declare_their_ranges_in_their_types() -> None:
    host = PluginHost()
    with pytest.raises(ParamError, match="classifier 'tfidf_logreg': parameter 'class_weight' expects one of 'none', "
                                         "'balanced', got 'balance'. Did you mean 'balanced'?"):
        host.build("classifier", "tfidf_logreg", {"class_weight": "balance"})
    with pytest.raises(ParamError, match="classifier 'tfidf_logreg': parameter 'C' expects a positive number, got 0"):
        host.build("classifier", "tfidf_logreg", {"C": 0})
    with pytest.raises(ParamError, match="augmenter 'nlpaug_keyboard': parameter 'aug_char_p' expects a number in "
                                         "\\(0, 1\\], got 1.5"):
        host.build("augmenter", "nlpaug_keyboard", {"aug_char_p": 1.5})
    with pytest.raises(ParamError, match="augmenter 'resample': balance='count' needs target_count >= 1"):
        host.build("augmenter", "resample", {"balance": "count"})  # a rule between two parameters: __post_init__
