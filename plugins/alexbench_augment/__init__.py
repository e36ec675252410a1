"""Built-in augmenters: ALEX's TextAttack recipe with class balancing, EDA, nlpaug character and
word augmenters, and pure resampling. All offline, seeded per post, with provenance on every
generated row. See docs/augmenters.md. Also owns the NLTK data the augmenters need
(:mod:`alexbench_augment.nltkdata`) and the ``alexbench setup-data`` command that sets it up.

Registered lazily so that importing this plugin (e.g. for ``alexbench plugins``) imports neither
TextAttack nor nlpaug (nor NLTK).
"""

from __future__ import annotations

from typing import Any

from alexbench import hookimpl

__version__ = "0.1.0"

#: name → (module:class, one-line description)
AUGMENTERS: dict[str, tuple[str, str]] = {
    "alex_textattack": ("textattack_aug:AlexTextAttack",
                        "ALEX: TextAttack char-sub/QWERTY/WordNet/contraction ×N + over/under-sampling (presets; "
                        "fast engine or TextAttack itself)"),
    "eda": ("textattack_aug:Eda", "EDA: TextAttack's EasyDataAugmenter (fast engine or TextAttack itself)"),
    "nlpaug_keyboard": ("nlpaug_aug:NlpaugKeyboard", "nlpaug KeyboardAug: neighbouring-key typos"),
    "nlpaug_ocr": ("nlpaug_aug:NlpaugOcr", "nlpaug OcrAug: OCR character confusions"),
    "nlpaug_random_char": ("nlpaug_aug:NlpaugRandomChar", "nlpaug RandomCharAug: insert/substitute/swap/delete"),
    "nlpaug_random_word": ("nlpaug_aug:NlpaugRandomWord", "nlpaug RandomWordAug: word swap/delete"),
    "nlpaug_spelling": ("nlpaug_aug:NlpaugSpelling", "nlpaug SpellingAug: bundled misspelling list"),
    "nlpaug_synonym": ("nlpaug_aug:NlpaugSynonym", "nlpaug SynonymAug: WordNet synonyms, offline POS tags"),
    "resample": ("resample:Resample", "random over-/under-sampling (verbatim copies), no new text"),
    "llm_paraphrase": ("llm_paraphrase:LLMParaphrase", "LLM rewrites of the grown classes' posts (local Gemma-3-270M; "
                       "any litellm model) + ALEX's balancing recipes"),
}


@hookimpl
def alexbench_register_augmenters(registry: Any) -> None:
    for name, (target, description) in AUGMENTERS.items():
        registry.add_lazy(name, f"{__name__}.{target}", description=description, multi_label=True)


@hookimpl
def alexbench_register_commands(cli: Any) -> None:
    from .commands import setup_data

    cli.add_command(setup_data)


@hookimpl
def alexbench_self_tests() -> list[Any]:
    from alexbench.selftest import SelfTest

    from .selftest import FIX

    return [SelfTest("WordNet through NLTK (the augmenters)", "alexbench_augment.selftest:check_wordnet", fix=FIX)]
