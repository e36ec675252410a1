"""What names a run: the part of its spec that can change its outputs.

A run's ``run_spec.json`` records everything about how it was made, for provenance: the task
file's hash and version, the data files' hashes, the variant's description. Its id (and the
test "is this the same definition of the variant?") uses only what decides the outputs: the
task's labels and metric, the posts each split yields (ids, texts, labels, extra inputs — so a
BOM, CRLF endings or a reordered task file do not matter, a changed post does), every
component's name, version, output-affecting parameters and fingerprint, the variant's name and
the seed. Fixing a typo in a description, adding a published result to a task file or
re-saving a data file with other line endings leaves every run id as it was.
"""

from __future__ import annotations

from typing import Any

from alexbench.fsio import sha256_obj

#: Recorded in the spec for provenance; never part of the identity.
PROVENANCE_ONLY = {"task": ("version", "file_sha256"), "variant": ("description",), "": ("data",)}


def identity(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without its provenance-only fields."""
    out = {k: v for k, v in spec.items() if k not in PROVENANCE_ONLY[""]}
    for section, keys in PROVENANCE_ONLY.items():
        if section and isinstance(out.get(section), dict):
            out[section] = {k: v for k, v in out[section].items() if k not in keys}
    return out


def run_id(spec: dict[str, Any]) -> str:
    return sha256_obj(identity(spec))[:16]


def definition(spec: dict[str, Any]) -> dict[str, Any]:
    """What must agree for two runs to be seeds of one leaderboard row: the identity but the seed.
    At a sweep point (``transform``) each seed draws its own training posts, so the train posts'
    fingerprint is left out and the train file's hash stands in for it (a changed file still
    makes a new definition)."""
    out = {k: v for k, v in identity(spec).items() if k != "seed"}
    if spec.get("transform") and isinstance(out.get("posts"), dict):
        out["posts"] = {k: v for k, v in out["posts"].items() if k != "train"}
        out["train_file_sha256"] = (spec.get("data") or {}).get("train")
    return out


#: What decides a run's classifier predictions (dev and test): everything up to the classifier.
CLASSIFIER_SIDE = ("schema", "task", "posts", "seed")


def classifier_side(spec: dict[str, Any]) -> dict[str, Any]:
    """The identity of a run's augment → train → predict stages: two runs that agree here have
    the same classifier predictions (they differ at most in their explainer)."""
    ident = identity(spec)
    variant = ident.get("variant") or {}
    return {**{k: ident.get(k) for k in CLASSIFIER_SIDE},
            "augmenters": variant.get("augmenters"), "classifier": variant.get("classifier")}
