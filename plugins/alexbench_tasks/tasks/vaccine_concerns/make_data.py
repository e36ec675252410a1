"""Writes the synthetic multi-label demo data (data/train.tsv, dev.tsv, test.tsv) of the task
``vaccine_concerns``: 600 short posts about COVID-19 vaccination, each labelled with the set of
concerns it voices (none, one or several), some concerns rare (2–5% of posts).

Every post is written by this script from the templates below (they were written for alexbench;
nothing comes from a real data set or platform), with seeded sampling, so a rerun writes the same
files byte for byte::

    python plugins/alexbench_tasks/tasks/vaccine_concerns/make_data.py

The labels are the ones the script chose, so they are exactly right for the text it produced;
"none" posts include hard negatives that use the concerns' words without voicing a concern
("zero side effects", "appointments are easy to get", "someone said it has a microchip, we laughed").
"""

from __future__ import annotations

import random
import re
from pathlib import Path

SEED = 18
SIZES = {"train": 360, "dev": 120, "test": 120}
LABELS = ("side_effects", "efficacy", "safety_trust", "access", "mandates", "misinformation")
#: The share of posts voicing each concern, drawn independently (so some posts voice several).
PREVALENCE = {"side_effects": 0.22, "efficacy": 0.13, "safety_trust": 0.10, "access": 0.05, "mandates": 0.04,
              "misinformation": 0.025}

SLOTS = {
    "vax": ["pfizer", "moderna", "astrazeneca", "novavax", "booster", "second dose", "covid jab", "bivalent"],
    "who": ["my mum", "my partner", "my flatmate", "a colleague", "my dad", "my sister", "my neighbour", "my gran"],
    "time": ["this morning", "yesterday", "last night", "on monday", "two days ago", "at the weekend"],
    "place": ["leeds", "the high street", "our town", "the valley", "north london", "the village", "glasgow"],
}

TEMPLATES = {
    "side_effects": [
        "my arm has been killing me since the {vax} {time}",
        "chills and a fever all night after the {vax}",
        "{who} was wiped out for two days after the {vax}",
        "headache and a sore arm after the {vax}, is that normal?",
        "woke up {time} feeling like i'd been hit by a bus, thanks {vax}",
        "is it normal to have swollen glands a week after the {vax}?",
        "{who} had a rash come up after the {vax}",
        "can barely lift my arm after the {vax}",
    ],
    "efficacy": [
        "does the {vax} even work against the new variant?",
        "{who} got covid anyway after the {vax}, so what was the point",
        "how long does protection from the {vax} actually last",
        "three doses and still caught it, not convinced it works",
        "if it doesn't stop you catching it why bother with the {vax}",
        "antibodies apparently drop off within months, so is the {vax} pointless?",
    ],
    "safety_trust": [
        "they rushed the {vax} trials, i don't trust it",
        "nobody knows the long-term effects of the {vax} yet",
        "{who} says the drug companies hid the risks",
        "why are the manufacturers protected from lawsuits if the {vax} is so safe",
        "i'll wait a few years and see what happens to everyone else",
        "the regulator approved the {vax} way too fast for my liking",
    ],
    "access": [
        "can't find a single appointment for the {vax} near {place}",
        "the pharmacy in {place} ran out of the {vax} again",
        "vaccine centre is forty minutes away and i don't drive",
        "tried booking the {vax} for {who}, website keeps crashing",
    ],
    "mandates": [
        "my employer says no jab no job, that's not a choice",
        "vaccine passports for the pub? absolutely not",
        "{place} is making the {vax} mandatory for care workers",
        "forcing people to get the {vax} to keep their job is wrong",
    ],
    "misinformation": [
        "the {vax} has a microchip in it, look it up",
        "heard the {vax} changes your dna permanently",
        "my key stuck to my arm after the {vax}, it's magnetic",
        "{who} says the {vax} spreads to people near you",
    ],
    "none": [
        "got my {vax} {time}, quick and easy",
        "zero side effects from the {vax}, just a tiny bruise",
        "{who} is volunteering at the vaccine centre in {place}",
        "flu jabs are open at the pharmacy in {place} this week",
        "booked {who} in for the {vax}, all sorted",
        "got the {vax} at the pharmacy in {place}, no queue at all",
        "proud of {who} for getting the {vax} {time}",
        "the nurse doing my {vax} was so lovely",
        "reading about the history of vaccines tonight, fascinating stuff",
        "had my {vax} and then went for a curry, good day",
        "the {vax} clinic in {place} had biscuits, ten out of ten",
        "reminder that walk-in {vax} sessions are on in {place}",
        "{who} finally had the {vax}, felt completely fine",
        "does anyone know if the {vax} clinic in {place} is open {time}?",
        # hard negatives: a concern's words, no concern voiced
        "the leaflet on side effects for the {vax} was really clear",
        "{who} asked if the {vax} works against the new variant, the nurse explained it well",
        "appointments for the {vax} are easy to get in {place} now",
        "the radio debate about vaccine passports was so boring i switched it off",
        "read the trial results for the {vax} myself, reassuring stuff",
        "my arm was a bit sore but honestly fine after the {vax}",
        "someone at work said the jab has a microchip, we all laughed",
    ],
}
OPENERS = ["", "", "", "honestly ", "ugh ", "so ", "ok ", "right, ", "update: "]
CLOSERS = ["", "", "", " #covid", " #vaccine", " 🙄", " 💉", " lol", "!", " …", " #jab", " 😷"]


def fill(rng: random.Random, template: str) -> str:
    chosen = {key: rng.choice(values) for key, values in SLOTS.items()}  # every slot drawn, used or not
    return re.sub(r"\{(\w+)\}", lambda match: chosen[match.group(1)], template)


def post(rng: random.Random, labels: list[str]) -> str:
    parts = [fill(rng, rng.choice(TEMPLATES[label])) for label in (labels or ["none"])]
    rng.shuffle(parts)
    return rng.choice(OPENERS) + ". ".join(parts) + rng.choice(CLOSERS)


def generate() -> dict[str, list[tuple[str, str, str]]]:
    rng = random.Random(SEED)
    total = sum(SIZES.values())
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    while len(rows) < total:
        labels = [label for label in LABELS if rng.random() < PREVALENCE[label]]
        text = post(rng, labels)
        if text in seen:
            continue
        seen.add(text)
        rows.append((f"vc{len(rows) + 1:04d}", text, " ".join(labels) if labels else "none"))
    out, start = {}, 0
    for split, size in SIZES.items():
        out[split] = rows[start:start + size]
        start += size
    return out


def main() -> None:
    folder = Path(__file__).resolve().parent / "data"
    folder.mkdir(exist_ok=True)
    for split, rows in generate().items():
        lines = ["id\ttext\tconcerns"] + ["\t".join(row) for row in rows]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
