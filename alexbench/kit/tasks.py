"""The conformance kit's tiny tasks: small, but built to exercise real components.

Posts come in several lengths (3 to 60 words) and many have several sentences, so that word-,
sentence- and character-level augmenters all have something to work on; the classes are
imbalanced (about 1:2.7 in ``binary``, 9/6/18 in ``multiclass``; in ``multilabel`` 13 train
posts have ``self``, 9 ``other``, 3 of them both, 18 neither), so that an augmenter that
balances or grows a minority class must generate rows; dev and test posts are posts of their
own (no train text occurs in them), so a leak from held-out data shows as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# Who has the infection: the author (SELF), someone they know (OTHER), nobody (NONE).
SELF = [
    "tested positive for covid today",
    "My PCR came back positive. Isolating at home until Friday.",
    "Doctor says I have covid. The cough makes sense now.",
    "Admitted to hospital with covid last night. Oxygen is helping. Thank you to the nurses on ward six, "
    "they have been amazing.",
    "positive lateral flow this morning. ugh.",
    "I got covid, isolating now",
    "Day three of covid. Lost my sense of smell completely. Coffee tastes like nothing. My partner is still "
    "negative, so I am sleeping on the sofa and eating alone. Drinking water and resting as much as I can.",
    "covid test positive again",
    "Stuck in bed with covid. Fever all night. Everything aches.",
    "Caught covid at the wedding. Worth it? Probably not.",
    "Diagnosed with covid yesterday.",
    "I have covid and a fever of 39. Anyone know if I should call the GP or just wait it out? The leaflet from "
    "the testing centre says rest and fluids. Feeling rough.",
    "Two lines on my test. Covid has finally found me after three years of dodging it!",
    "my covid symptoms started on monday. Sore throat first, then the fever.",
    "Positive. Again. Second time this year I have had covid and it is worse than the first. Cancelling all my "
    "plans for the next ten days, sorry everyone.",
    "Got my results: I am covid positive.",
]
OTHER = [
    "my mum tested positive",
    "My brother has covid. He sounds awful on the phone.",
    "My flatmate caught covid at work, so now we are all testing every morning. Fingers crossed.",
    "Dad is in hospital with covid. Visiting is not allowed. We wave through the window every afternoon and he "
    "gives us a thumbs up. The doctors say he is stable.",
    "my friend tested positive today",
    "My sister got covid at school. Her whole class is off.",
    "grandma has covid again",
    "My boss has covid now, so the meeting is cancelled. Small mercies.",
    "Our neighbour has covid. We left soup on the doorstep.",
    "My son tested positive this morning. He is bored already! I am keeping him in his room with books and the "
    "laptop. Wish me luck.",
    "husband has covid, I am fine so far",
    "The nanny came down with covid. Back to working from the kitchen table.",
]
NONE = [
    "cases are rising in the city",
    "Wear a mask on the bus. It is not hard.",
    "Vaccine appointment booked for Thursday. Second dose, then the booster in spring.",
    "lockdown again next week",
    "News report on hospital capacity tonight. The numbers look grim. Doctors are asking everyone to get boosted "
    "and to stay home when ill. Worth watching if you missed it.",
    "Hope I never get covid.",
    "School closed for the week. Half the teachers are off.",
    "The government announced new rules. Again.",
    "stats look bad this month",
    "Bought more hand gel and a box of masks. The shop had a queue out the door.",
    "Long queue at the testing centre this morning. Took an hour. Result in two days.",
    "my flatmate has a cold",
    "Working from home again. The cat approves, my back does not.",
    "covid numbers dropped in march",
    "The clinic opens at nine. Bring your booking code and photo id.",
    "masks are sold out",
    "My test was negative, phew. Still feeling tired though.",
    "Reading about the new variant. Scientists say it spreads faster but the vaccines still help. Not panicking "
    "yet.",
    "Booster shots start Monday for the over fifties. Book online or call the number on the letter. Walk-ins are "
    "welcome at the town hall on Saturdays.",
    "travel rules changed again",
    "The office reopens soon. Desks have been moved two metres apart. We have to book a seat in an app now. "
    "Progress?",
    "Hand washing song on the radio. Twenty seconds of pure joy.",
    "negative lateral flow before the concert",
    "Is it allergies or a cold? Nose has been running all day. Tested anyway: negative.",
    "Remember when we clapped for carers every Thursday? Feels like a lifetime ago.",
    "new covid study out today",
    "Schools will test pupils twice a week from next term. Parents get the kits in the post.",
    "The pub reopened. Beer garden only, table service, and you have to scan the code at the gate.",
    "my vaccine arm is sore",
    "Local covid cases fell by a third this week. Good news for once.",
]

# Both: the author and someone they know (the multi-label task's posts with two labels).
BOTH = [
    "My husband and I both tested positive today.",
    "Whole family has covid now, me included. The kids caught it first at school and brought it home.",
    "My sister gave me covid. We are isolating together and watching films.",
    "me and my flatmate both have covid",
    "I have covid and so does my dad. He is in hospital, I am at home with a fever and a cough. The nurses call "
    "every evening with news.",
]

TASK_KINDS: dict[str, dict[str, Any]] = {
    # Does the author report their own infection (1) or not (0)?
    "binary": {"name": "kit_binary", "title": "binary self-report", "labels": ["0", "1"], "positive": "1",
               "metric": "f1_positive", "rows": {"1": SELF, "0": OTHER + NONE}},
    # Who has it: the author (self), someone they know (other), nobody (none)?
    "multiclass": {"name": "kit_multiclass", "title": "three-class who-has-it", "labels": ["none", "self", "other"],
                   "positive": None, "metric": "macro_f1", "rows": {"self": SELF, "other": OTHER, "none": NONE}},
    # Multi-label: who has it, a set of self and other (both, one or neither: "none").
    "multilabel": {"name": "kit_multilabel", "title": "multi-label who-has-it", "labels": ["self", "other"],
                   "positive": None, "metric": "macro_f1", "multi_label": True, "separator": ",", "empty": "none",
                   "rows": {"self": SELF, "other": OTHER, "self,other": BOTH, "none": NONE}},
}
"""The tiny tasks the kit writes: ``binary`` (labels 0/1, positive 1), ``multiclass`` (labels
none/self/other, no positive label) and ``multilabel`` (label sets of self and other, written
``self,other``, ``none`` for neither)."""


def split_of(index: int) -> str:
    """Every fifth post of each label goes to dev, the one after it to test, the rest to train."""
    return {0: "dev", 1: "test"}.get(index % 5, "train")


def _toml_value(value: Any) -> str:
    """A TOML value: strings and lists of strings as JSON writes them (valid TOML), tables inline."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def task_toml(name: str, labels: Sequence[str], *, positive: str | None = None, metric: str = "macro_f1",
              metric_params: dict[str, Any] | None = None, title: str | None = None, id_column: str = "tweet_id",
              extra: Sequence[str] = (), submission: str | None = None, multi_label: bool = False,
              separator: str | None = None, empty: str | None = None) -> str:
    """The text of a task file whose splits are ``data/{train,dev,test}.tsv`` with columns
    ``id_column``, ``text``, ``label`` (and ``extra``): the one place tests, benchmarks and the kit
    write a task file from (docs/tasks.md describes every field)."""
    lines = ["[task]", f"name = {_toml_value(name)}"]
    lines += [f"title = {_toml_value(title)}"] if title else []
    lines += ['data_dir = "data"', "", "[columns]", f"id = {_toml_value(id_column)}", 'text = "text"', 'label = "label"']
    lines += [f"extra = {_toml_value(list(extra))}"] if extra else []
    for split in ("train", "dev", "test"):
        lines += [f"[splits.{split}]", f'file = "{split}.tsv"']
    lines += ["", "[labels]", f"values = {_toml_value(list(labels))}"]
    lines += [f"positive = {_toml_value(positive)}"] if positive else []
    lines += ["multi_label = true"] if multi_label else []
    lines += [f"separator = {_toml_value(separator)}"] if separator is not None else []
    lines += [f"empty = {_toml_value(empty)}"] if empty is not None else []
    lines += ["", "[metric]", f"official = {_toml_value(metric)}"]
    lines += [f"params = {_toml_value(metric_params)}"] if metric_params else []
    if submission:
        lines += ["", "[submission]", f"file = {_toml_value(submission)}", f"id_column = {_toml_value(id_column)}",
                  'label_column = "label"']
    return "\n".join(lines) + "\n"


def write_tsv(path: Path, rows: Iterable[Sequence[str]], header: str = "tweet_id\ttext\tlabel") -> None:
    """Write a tab-separated file: ``header`` (columns joined by tabs), then one line per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")


def write_task(folder: Path | str, splits: Mapping[str, Iterable[Sequence[str]]], *, header: str | None = None,
               **toml: Any) -> Path:
    """Write ``folder/task.toml`` (:func:`task_toml` with ``toml``) and ``folder/data/<split>.tsv``
    for each of ``splits`` (rows in the order of ``header``: by default id, extra columns, text,
    label); return the task file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    task_file = folder / "task.toml"
    task_file.write_text(task_toml(**toml), encoding="utf-8")
    if header is None:
        header = "\t".join([toml.get("id_column", "tweet_id"), *toml.get("extra", ()), "text", "label"])
    for split, rows in splits.items():
        write_tsv(folder / "data" / f"{split}.tsv", rows, header)
    return task_file


def write_tiny_task(root: Path | str, kind: str = "binary") -> Path:
    """Write a tiny real task (task.toml + train/dev/test TSVs) under ``root`` and return the
    task file. ``kind`` is ``binary``, ``multiclass`` or ``multilabel`` (see :data:`TASK_KINDS`).
    Every label occurs in every split; no dev or test text occurs in train; train is imbalanced and mixes
    short one-sentence posts with long ones of several sentences."""
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown tiny task kind {kind!r}; choose one of {sorted(TASK_KINDS)}")
    info = TASK_KINDS[kind]
    splits: dict[str, list[tuple[str, str, str]]] = {"train": [], "dev": [], "test": []}
    prefix = {"train": "r", "dev": "d", "test": "t"}
    for label, texts in info["rows"].items():
        for i, text in enumerate(texts):
            split = split_of(i)
            splits[split].append((f"{prefix[split]}-{label.replace(',', '+')}-{i}", text, label))
    multi = {k: info[k] for k in ("multi_label", "separator", "empty") if k in info}
    return write_task(Path(root) / info["name"], splits, name=info["name"], labels=info["labels"],
                      positive=info["positive"], metric=info["metric"],
                      title=f"alexbench conformance kit: {info['title']}", **multi)
