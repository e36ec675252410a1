"""``alexbench run -p COMPONENT.KEY=VALUE``: ad-hoc parameters on the command line.

COMPONENT names a place in the variant (``classifier``, ``explainer``, ``augmenter`` when the
chain has one, ``augmenter1``, ``augmenter2``… in a chain) or a component by name
(``tfidf_logreg``). VALUE is read as a TOML value (``10``, ``0.5``, ``true``, ``[1, 2]``,
``"x"``), except that a string parameter takes the text as typed (:func:`alexbench.config.params.parse_text`).
A variant given parameters this way is a new variant, named ``NAME[COMPONENT.KEY=VALUE,...]``, so
its runs never mix with the named variant's on a leaderboard.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alexbench.config.params import parse_text
from alexbench.config.variants import ComponentSpec, VariantSpec
from alexbench.errors import AlexbenchError

_ROLE = re.compile(r"augmenter(\d*)")


@dataclass(frozen=True)
class Override:
    target: str
    key: str
    value: str

    @property
    def text(self) -> str:
        return f"{self.target}.{self.key}={self.value}"

    @classmethod
    def parse(cls, text: str) -> Override:
        left, sep, value = text.partition("=")
        target, dot, key = left.strip().rpartition(".")
        if not sep or not dot or not target or not key:
            raise AlexbenchError(f"-p {text!r}: expected COMPONENT.KEY=VALUE, e.g. -p classifier.C=0.5 or "
                                 "-p tfidf_logreg.class_weight=balanced (COMPONENT: classifier, explainer, augmenter, "
                                 "augmenter1, augmenter2… or a component's name)")
        return cls(target.strip(), key.strip(), value)


@dataclass(frozen=True)
class _Slot:
    kind: str
    label: str  # how -p names it: classifier, explainer, augmenter1…
    index: int  # position in the augmenter chain (augmenters only)


def _slots(variant: VariantSpec) -> list[tuple[_Slot, ComponentSpec]]:
    slots = [(_Slot("augmenter", f"augmenter{i + 1}", i), a) for i, a in enumerate(variant.augmenters)]
    slots.append((_Slot("classifier", "classifier", -1), variant.classifier))
    if variant.explainer is not None:
        slots.append((_Slot("explainer", "explainer", -1), variant.explainer))
    return slots


def _matching(variant: VariantSpec, target: str) -> list[tuple[_Slot, ComponentSpec]]:
    slots = _slots(variant)
    role = _ROLE.fullmatch(target)
    if target in ("classifier", "explainer"):
        return [(slot, spec) for slot, spec in slots if slot.kind == target]
    if role:
        augmenters = [(slot, spec) for slot, spec in slots if slot.kind == "augmenter"]
        if not role.group(1):
            if len(augmenters) > 1:
                raise AlexbenchError(f"-p {target}.…: variant {variant.name!r} has {len(augmenters)} augmenters; "
                                     f"say which: {', '.join(slot.label for slot, _ in augmenters)}")
            return augmenters
        n = int(role.group(1))
        return augmenters[n - 1:n] if n >= 1 else []
    named = [(slot, spec) for slot, spec in slots if spec.name == target]
    if len(named) > 1:
        raise AlexbenchError(f"-p {target}.…: variant {variant.name!r} uses {target!r} {len(named)} times; say "
                             f"which: {', '.join(slot.label for slot, _ in named)}")
    return named


def component_at(variant: VariantSpec, place: str) -> ComponentSpec | None:
    """The component at ``place`` (``classifier``, ``explainer``, ``augmenter`` when the chain has
    one, ``augmenter1``…, or a component's name), None when the variant has none there."""
    found = _matching(variant, place)
    return found[0][1] if found else None


def apply_overrides(variants: Sequence[VariantSpec], overrides: Sequence[Override],
                    params_class: Callable[[str, str], type]) -> list[VariantSpec]:
    """The variants with the overrides applied where their COMPONENT is (each override must
    apply to at least one variant). ``params_class(kind, name)`` gives a component's Params, to
    read each value with its field's type. Unknown keys and wrong types are left to
    :meth:`~alexbench.interfaces.Component.from_params`, which names the parameter."""
    used = {o: False for o in overrides}
    out = []
    for variant in variants:
        slots = _slots(variant)
        specs = [spec for _, spec in slots]
        applied = []
        for override in overrides:
            for slot, _ in _matching(variant, override.target):
                i = next(n for n, (s, _) in enumerate(slots) if s == slot)
                value = parse_text(params_class(slot.kind, specs[i].name), override.key, override.value)
                specs[i] = ComponentSpec(specs[i].name, {**specs[i].params, override.key: value})
                applied.append(override)
                used[override] = True
        if not applied:
            out.append(variant)
            continue
        augmenters = tuple(spec for (slot, _), spec in zip(slots, specs) if slot.kind == "augmenter")
        classifier = next(spec for (slot, _), spec in zip(slots, specs) if slot.kind == "classifier")
        explainer = next((spec for (slot, _), spec in zip(slots, specs) if slot.kind == "explainer"), None)
        texts = ",".join(o.text for o in applied)
        out.append(dataclasses.replace(
            variant, name=f"{variant.name}[{texts}]", augmenters=augmenters, classifier=classifier,
            explainer=explainer, description=f"{variant.description} (with -p {texts})".lstrip()))
    unused = [o.text for o, hit in used.items() if not hit]
    if unused:
        places = sorted({slot.label for v in variants for slot, _ in _slots(v)}
                        | {spec.name for v in variants for _, spec in _slots(v)})
        raise AlexbenchError(f"-p {', '.join(unused)}: no such component in the variant(s) "
                             f"{', '.join(v.name for v in variants)}; COMPONENT is one of: {', '.join(places)}")
    return out
