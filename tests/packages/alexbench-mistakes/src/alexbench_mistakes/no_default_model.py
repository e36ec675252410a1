from dataclasses import dataclass

from .majority import Majority


@dataclass(frozen=True)
class LazyParams:
    threshold: float


class LazyNoDefault(Majority):
    name = "lazy_no_default"
    Params = LazyParams
