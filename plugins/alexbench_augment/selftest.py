"""The augment plugin's self-test (``alexbench doctor``): WordNet answers a look-up through NLTK,
from the offline data folder the augmenters use (set up from Debian's WordNet when missing)."""

from __future__ import annotations

from typing import Any

from alexbench.selftest import SelfTestFailed

FIX = ("install WordNet: apt-get install wordnet-base wordnet-sense-index (Debian), or "
       "alexbench setup-data --download elsewhere; then alexbench setup-data")


def check_wordnet() -> dict[str, Any]:
    import nltk

    from .nltkdata import activate, wordnet_source

    folder = activate()
    from nltk.corpus import wordnet

    source = wordnet_source()
    synsets = wordnet.synsets("vaccine")
    if not synsets:
        raise SelfTestFailed(f"WordNet in {folder} knows no 'vaccine'", FIX)
    lemmas = sorted({name.replace("_", " ") for s in synsets for name in s.lemma_names()})
    return {"nltk": nltk.__version__, "data folder": str(folder),
            "WordNet from": str(source) if (source / "index.sense").is_file() else f"{folder} (set up before; "
            f"{source} has none: downloaded with setup-data --download)",
            "look-up": f"'vaccine': {len(synsets)} synset(s), lemmas {', '.join(lemmas[:4])}"}
