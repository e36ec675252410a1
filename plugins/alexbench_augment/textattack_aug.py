"""TextAttack augmenters: ALEX's composite recipe and EDA, each with two engines: ``fast``
(alexbench's samplers of TextAttack's distributions, linear in post length: alex_fast.py,
eda_fast.py) and ``textattack`` (TextAttack itself, imported on first use)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from . import __version__
from .base import Balance, Copies, Fraction, GrowingAugmenter, GrowParams
from .generation import MENTION_PLACEHOLDER
from .nltkdata import ENGLISH_STOPWORDS
from .presets import PRESETS, apply_preset
from .supply import Job, Made
from .workers import CHARS_PER_SECOND

ALEX_TRANSFORMATIONS = ("char_substitution", "qwerty", "wordnet", "contract")
Engine = Literal["fast", "textattack"]
#: "" (none) or a preset of presets.py.
Preset = Literal[("", *PRESETS)]  # type: ignore[valid-type]


def _transformations(text: str) -> str:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names or any(name not in ALEX_TRANSFORMATIONS for name in names):
        raise ValueError(f"{[n for n in names if n not in ALEX_TRANSFORMATIONS] or 'empty'} not among them")
    return text


Transformations = Annotated[str, AfterValidator(_transformations),
                            Field(description=f"comma-separated names among {', '.join(ALEX_TRANSFORMATIONS)}")]
#: Characters × copies TextAttack's own engine makes a second in one process (~50-word posts;
#: slower on longer ones: its work is quadratic in post length). The fast engines make
#: ``workers.CHARS_PER_SECOND``. Decides when ``workers = 0`` uses the pool.
TEXTATTACK_CHARS_PER_SECOND = 600.0


class TwoEngines(GrowingAugmenter):
    """An augmenter with ``engine = "fast" | "textattack"`` in its Params: ``textattack`` calls
    TextAttack's own augmenter (:meth:`build_generator`), ``fast`` alexbench's sampler of the same
    distribution (:meth:`fast_engine` and :meth:`fast_copies`), built once per augmenter."""

    @property
    def chars_per_second(self) -> float:
        return TEXTATTACK_CHARS_PER_SECOND if self.params.engine == "textattack" else CHARS_PER_SECOND

    def fast_engine(self) -> Any:
        """Build the fast engine (called once)."""
        raise NotImplementedError

    def fast_copies(self, engine: Any, job: Job) -> tuple[tuple[str, ...], bool]:
        """The copies of one post (at most ``job.stop``) and whether the post has no more."""
        raise NotImplementedError

    def make_copies(self, jobs: Sequence[Job]) -> list[Made]:
        if self.params.engine == "textattack":
            return super().make_copies(jobs)
        engine = getattr(self, "_fast", None)
        if engine is None:
            engine = self._fast = self.fast_engine()
        out: list[Made] = []
        for job in jobs:
            try:
                texts, exhausted = self.fast_copies(engine, job)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                out.append(Made(job.key, (), True, (type(exc).__name__, str(exc))))
                continue
            out.append(Made(job.key, texts, exhausted))
        return out


@dataclass(frozen=True)
class AlexParams(GrowParams):
    """ALEX's recipe. Defaults are its SMM4H 2023 Task 1 settings: minority ×10, undersample to 1:1.

    preset: ``smm4h23_task1`` | ``smm4h23_task2`` | ``smm4h23_task4`` (see presets.py) or empty.
    transformations: comma-separated subset of char_substitution, qwerty, wordnet, contract.
    pct_words_to_swap: TextAttack's fraction of words changed per augmented text.
    engine: ``fast`` (alexbench's sampler of TextAttack's distribution, linear in post length; see
    alex_fast.py) or ``textattack`` (TextAttack's own ``Augmenter``, for bit-faithful reproduction).
    """

    preset: Preset = ""
    n: Copies = 10
    balance: Balance = "ratio"
    transformations: Transformations = ",".join(ALEX_TRANSFORMATIONS)
    pct_words_to_swap: Fraction = 0.1
    engine: Engine = "fast"

    def __post_init__(self) -> None:
        apply_preset(self)  # a preset's values replace the defaults a variant left as they are
        super().__post_init__()

    def transformation_names(self) -> list[str]:
        return [part.strip() for part in self.transformations.split(",") if part.strip()]


class AlexTextAttack(TwoEngines):
    """ALEX: TextAttack composite (char substitution, QWERTY, WordNet, contraction) + class balancing."""

    name = "alex_textattack"
    version = __version__
    Params = AlexParams
    operation = "textattack_composite"

    def build_generator(self) -> Callable[[str, int], list[str]]:
        """TextAttack's own Augmenter (``engine = "textattack"``)."""
        from . import ta_offline

        p: AlexParams = self.params
        augmenter = ta_offline.alex_augmenter(p.transformation_names(), p.pct_words_to_swap, p.n,
                                              (MENTION_PLACEHOLDER,))
        return lambda text, n: augmenter.augment(text)

    def fast_engine(self) -> Any:
        from .alex_fast import FastAlexEngine

        p: AlexParams = self.params
        return FastAlexEngine(p.transformation_names(), p.pct_words_to_swap, p.n,
                              set(ENGLISH_STOPWORDS) | {MENTION_PLACEHOLDER})

    def fast_copies(self, engine: Any, job: Job) -> tuple[tuple[str, ...], bool]:
        texts = tuple(copy.text for copy in islice(engine.copies(job.text, job.seed), job.stop))
        return texts, len(texts) < job.stop


@dataclass(frozen=True)
class EdaParams(GrowParams):
    """EDA (Wei & Zou 2019) via TextAttack's EasyDataAugmenter: synonym replacement, deletion,
    swap, synonym insertion. n is EDA's transformations_per_example. engine: ``fast`` (alexbench's
    sampler of the same distribution, linear in post length; see eda_fast.py) or ``textattack``."""

    n: Copies = 4
    pct_words_to_swap: Fraction = 0.1
    engine: Engine = "fast"


class Eda(TwoEngines):
    """EDA (TextAttack EasyDataAugmenter): WordNet synonyms, deletion, swap, insertion."""

    name = "eda"
    version = __version__
    Params = EdaParams
    operation = "easy_data_augmentation"

    def build_generator(self) -> Callable[[str, int], list[str]]:
        """TextAttack's own EasyDataAugmenter (``engine = "textattack"``)."""
        from . import ta_offline

        p: EdaParams = self.params
        augmenter = ta_offline.OfflineEasyDataAugmenter(p.pct_words_to_swap, p.n, (MENTION_PLACEHOLDER,))
        return lambda text, n: augmenter.augment(text)

    def fast_engine(self) -> Any:
        from .eda_fast import FastEdaEngine

        return FastEdaEngine(self.params.pct_words_to_swap, self.params.n, set(ENGLISH_STOPWORDS) | {MENTION_PLACEHOLDER})

    def fast_copies(self, engine: Any, job: Job) -> tuple[tuple[str, ...], bool]:
        return tuple(engine.augment(job.text, job.seed)), True
