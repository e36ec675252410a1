"""TextAttack augmenters: ALEX's composite recipe and EDA. TextAttack is imported on first use."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from . import __version__
from .base import GrowingAugmenter, GrowParams
from .generation import MENTION_PLACEHOLDER
from .presets import PRESETS

ALEX_TRANSFORMATIONS = ("char_substitution", "qwerty", "wordnet", "contract")


@dataclass(frozen=True)
class AlexParams(GrowParams):
    """ALEX's recipe. Defaults are its SMM4H 2023 Task 1 settings: minority ×10, undersample to 1:1.

    preset: ``smm4h23_task1`` | ``smm4h23_task2`` | ``smm4h23_task4`` (see presets.py) or empty.
    transformations: comma-separated subset of char_substitution, qwerty, wordnet, contract.
    pct_words_to_swap: TextAttack's fraction of words changed per augmented text.
    """

    preset: str = ""
    n: int = 10
    balance: str = "ratio"
    transformations: str = ",".join(ALEX_TRANSFORMATIONS)
    pct_words_to_swap: float = 0.1

    def __post_init__(self) -> None:
        if self.preset:
            if self.preset not in PRESETS:
                raise ValueError(f"unknown preset {self.preset!r}; presets: {', '.join(sorted(PRESETS))}")
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            for key, value in PRESETS[self.preset].items():
                if getattr(self, key) == defaults[key]:
                    object.__setattr__(self, key, value)
        names = self.transformation_names()
        unknown = [n for n in names if n not in ALEX_TRANSFORMATIONS]
        if unknown or not names:
            raise ValueError(f"transformations {unknown or 'empty'}: choose from {', '.join(ALEX_TRANSFORMATIONS)}")
        if not 0.0 <= self.pct_words_to_swap <= 1.0:
            raise ValueError(f"pct_words_to_swap must be in [0, 1], got {self.pct_words_to_swap}")
        super().__post_init__()

    def transformation_names(self) -> list[str]:
        return [part.strip() for part in self.transformations.split(",") if part.strip()]


class AlexTextAttack(GrowingAugmenter):
    """ALEX: TextAttack composite (char substitution, QWERTY, WordNet, contraction) + class balancing."""

    name = "alex_textattack"
    version = __version__
    Params = AlexParams
    operation = "textattack_composite"

    def build_generator(self) -> Callable[[str, int], list[str]]:
        from . import ta_offline

        p: AlexParams = self.params
        augmenter = ta_offline.alex_augmenter(p.transformation_names(), p.pct_words_to_swap, p.n,
                                              (MENTION_PLACEHOLDER,))
        return lambda text, n: augmenter.augment(text)


@dataclass(frozen=True)
class EdaParams(GrowParams):
    """EDA (Wei & Zou 2019) via TextAttack's EasyDataAugmenter: synonym replacement, deletion,
    swap, synonym insertion. n is EDA's transformations_per_example."""

    n: int = 4
    pct_words_to_swap: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.pct_words_to_swap <= 1.0:
            raise ValueError(f"pct_words_to_swap must be in [0, 1], got {self.pct_words_to_swap}")
        super().__post_init__()


class Eda(GrowingAugmenter):
    """EDA (TextAttack EasyDataAugmenter): WordNet synonyms, deletion, swap, insertion."""

    name = "eda"
    version = __version__
    Params = EdaParams
    operation = "easy_data_augmentation"

    def build_generator(self) -> Callable[[str, int], list[str]]:
        from . import ta_offline

        p: EdaParams = self.params
        augmenter = ta_offline.OfflineEasyDataAugmenter(p.pct_words_to_swap, p.n, (MENTION_PLACEHOLDER,))
        return lambda text, n: augmenter.augment(text)
