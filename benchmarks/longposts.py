"""Reddit-length posts for the benchmarks: real short posts concatenated to a target length.

Reddit posts in the SMM4H mental-health tasks run to ~170 words, several times a tweet. The
posts here are made of real posts: the CONSTRAINT 2021 stand-in (6,420 real posts, a broad
vocabulary, so WordNet look-ups are as frequent as on real data) when ../shared/data has it,
otherwise the demo task's synthetic tweets. Which one was used is returned with the posts.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALEXBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


def source_posts() -> tuple[str, list[str]]:
    """(name of the source, texts) — real stand-in posts when available."""
    from alexbench.config.tasks import load_task
    from alexbench.data.splits import load_dataset

    if (SHARED / "constraint2021_covid_fakenews" / "Constraint_Train.csv").is_file():
        task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "standins" / "constraint2021.toml", data_root=SHARED)
        return "CONSTRAINT 2021 train posts", [p.text for p in load_dataset(task).train]
    task = load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml")
    return "demo train posts", [p.text for p in load_dataset(task).train]


def long_posts(texts: list[str], count: int, words: int, seed: int) -> list[str]:
    """``count`` posts of about ``words`` words, each a run of randomly chosen source posts."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts: list[str] = []
        size = 0
        while size < words:
            text = rng.choice(texts)
            parts.append(text)
            size += len(text.split())
        post = " ".join(parts).split()[:words]
        out.append(" ".join(post))
    return out


def write_task(folder: Path, *, name: str = "reddit_length", count: int = 2000, words: int = 170,
               seed: int = 1) -> Path:
    """A two-class task of ``count`` train posts (1 positive : 2 negatives) of ~``words`` words;
    dev and test a tenth of that each. A positive post is a run of source posts that contains one
    of the demo task's positive tweets (self-reports of a COVID-19 diagnosis), so the classes can
    be learned; the rest of each post is filler of the same source."""
    from alexbench.config.tasks import load_task
    from alexbench.data.splits import load_dataset
    from alexbench.kit.tasks import write_task as write_kit_task

    _, texts = source_posts()
    demo = load_dataset(load_task(REPO / "plugins" / "alexbench_tasks" / "tasks" / "demo" / "task.toml"))
    signal = [p.text for p in demo.train + demo.dev + demo.test if p.label == "1"]
    rng = random.Random(seed)
    splits: dict[str, list[tuple[str, str, str]]] = {}
    for split, size in (("train", count), ("dev", count // 10), ("test", count // 10)):
        rows = splits[split] = []
        for i in range(size):
            label = "1" if i % 3 == 0 else "0"
            filler = long_posts(texts, 1, words, rng.randrange(2**31))[0].split()
            if label == "1":
                cut = rng.randrange(len(filler) + 1)
                filler[cut:cut] = rng.choice(signal).split()
            rows.append((f"{split}-{i}", " ".join(filler).replace("\t", " "), label))
    return write_kit_task(folder, splits, name=name, labels=["0", "1"], positive="1", metric="f1_positive", id_column="id",
                          title=f"Reddit-length synthetic task for benchmarks ({count} train posts of ~{words} words, 1:2)")
