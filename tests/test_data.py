"""The data loader: line-precise errors for every defect, counted fixes, never a silent drop."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexbench.data import carve, load_dataset, read_split_file
from alexbench.errors import DataError
from alexbench.interfaces import Post
from alexbench.tasks import load_task

HEADER = b"tweet_id\ttext\tlabel\n"


def _split(tiny_task, body: bytes, split: str = "train") -> Path:
    path = tiny_task.split_path(split)
    path.write_bytes(body)
    return path


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (HEADER + b"1\tok post\t0\n2\ttoo\tmany\tfields\n", 3, "", "expected 3 fields"),
        (HEADER + b"1\tok post\t0\n2\tshort\n", 3, "", "expected 3 fields"),
        (HEADER + b"1\tok post\t0\n2\tpost\tmaybe\n", 3, "label", "unknown label 'maybe'"),
        (HEADER + b"1\tok post\t0\n\tno id\t1\n", 3, "tweet_id", "missing id"),
        (HEADER + b"1\tok post\t0\n1\tagain\t1\n", 3, "tweet_id", "duplicate id '1' (first on line 2)"),
        (HEADER + b"1\tok post\t0\n2\t   \t1\n", 3, "text", "empty post"),
        (HEADER + b"1\tok post\t0\n2\tbad \xff byte\t1\n", 3, "", "not valid utf-8"),
        (HEADER + b"1\tok post\t0\n2\tpost\t\n", 3, "label", "missing label"),
        (b"tweet_id\tbody\tlabel\n1\tx\t0\n", 1, "text", "column missing from the header"),
        (HEADER + b"1\tok post\t0\n\n2\tpost\t1\n", 3, "", "empty line"),
    ],
)
def test_bad_rows_name_file_line_and_field(tiny_task, body: bytes, line: int, field: str, message: str) -> None:
    path = _split(tiny_task, body)
    with pytest.raises(DataError) as exc:
        read_split_file(path, tiny_task.splits["train"], tiny_task.labels)
    assert (exc.value.path, exc.value.line, exc.value.field) == (path, line, field)
    assert message in str(exc.value) and f"{path}:{line}" in str(exc.value)


def test_bad_quoting_in_csv_is_reported(tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text().replace("[columns]", '[format]\ntype = "csv"\n\n[columns]')
    tiny_task_file.write_text(text)
    task = load_task(tiny_task_file)
    path = _split(task, b'tweet_id,text,label\n1,"fine, quoted",0\n2,"broken "quote" here,1\n')
    with pytest.raises(DataError, match=r":3: malformed csv"):
        read_split_file(path, task.splits["train"], task.labels)
    path.write_bytes(b'tweet_id,text,label\n1,"fine, quoted",0\n2,"a ""quoted"" word",1\n')
    posts, _ = read_split_file(path, task.splits["train"], task.labels)
    assert [p.text for p in posts] == ["fine, quoted", 'a "quoted" word']


def test_bom_and_crlf_are_accepted_and_counted(tiny_task) -> None:
    path = _split(tiny_task, b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"1\tfirst\t0\r\n2\tsecond\t1\r\n")
    posts, report = read_split_file(path, tiny_task.splits["train"], tiny_task.labels)
    assert [(p.id, p.text, p.label, p.line) for p in posts] == [("1", "first", "0", 2), ("2", "second", "1", 3)]
    assert report.bom_stripped and report.crlf_lines == 3 and report.label_counts == {"0": 1, "1": 1}


def test_unlabeled_skip_and_duplicate_rename_are_counted(tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text().replace('[splits.train]\nfile = "train.tsv"',
                                              '[splits.train]\nfile = "train.tsv"\nunlabeled = "skip"\nduplicate_ids = "rename"')
    tiny_task_file.write_text(text)
    task = load_task(tiny_task_file)
    path = _split(task, HEADER + b"1\ta\t0\n2\tb\t\n1\tc\t1\n1\td\t1\n")
    posts, report = read_split_file(path, task.splits["train"], task.labels)
    assert [p.id for p in posts] == ["1", "1#2", "1#3"]
    assert report.skipped_unlabeled == 1 and report.renamed_duplicate_ids == 2 and report.rows == 3


def test_extra_columns_become_post_extra(tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text().replace('label = "label"', 'label = "label"\nextra = ["therapy"]')
    tiny_task_file.write_text(text)
    task = load_task(tiny_task_file)
    path = _split(task, b"tweet_id\ttherapy\ttext\tlabel\n1\taspirin\tworks for me\t0\n")
    posts, _ = read_split_file(path, task.splits["train"], task.labels)
    assert posts[0].extra == {"therapy": "aspirin"} and posts[0].text == "works for me"


def test_dataset_loads_all_splits_with_hashes(tiny_task) -> None:
    data = load_dataset(tiny_task)
    assert [len(data.train), len(data.dev), len(data.test)] == [18, 6, 6]
    prov = data.provenance()
    assert len(prov["train"]["sha256"]) == 64 and prov["train"]["label_counts"] == {"0": 12, "1": 6}


posts_strategy = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=60).map(
    lambda labels: [Post(str(i), f"t{i}", label) for i, label in enumerate(labels)])


@settings(max_examples=60, deadline=None)
@given(posts=posts_strategy, fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**31))
def test_carve_is_a_stratified_deterministic_partition(posts: list[Post], fraction: float, seed: int) -> None:
    kept, cut = carve(posts, fraction, seed)
    assert sorted(p.id for p in kept + cut) == sorted(p.id for p in posts)
    assert carve(posts, fraction, seed) == (kept, cut)
    total, taken = Counter(p.label for p in posts), Counter(p.label for p in cut)
    for label, n in total.items():
        assert taken[label] == round(n * fraction)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
                      .filter(lambda t: t.strip() and t == t.strip()), min_size=1, max_size=20, unique=True))
def test_any_text_round_trips_through_a_tsv(tmp_path_factory, texts: list[str]) -> None:
    from tests.conftest import make_tiny_task

    task = load_task(make_tiny_task(tmp_path_factory.mktemp("h")))
    rows = b"".join(f"{i}\t{t}\t0\n".encode() for i, t in enumerate(texts))
    path = _split(task, HEADER + rows)
    posts, report = read_split_file(path, task.splits["train"], task.labels)
    assert [p.text for p in posts] == texts and report.rows == len(texts)


def test_very_long_posts_are_truncated_and_counted(tiny_task_file: Path) -> None:
    text = tiny_task_file.read_text().replace("[columns]", "[format]\nmax_chars = 50\n\n[columns]")
    tiny_task_file.write_text(text)
    task = load_task(tiny_task_file)
    path = _split(task, HEADER + b"1\t" + b"word " * 40 + b"\t0\n2\tshort post\t1\n")
    posts, report = read_split_file(path, task.splits["train"], task.labels)
    assert len(posts[0].text) == 50 and posts[1].text == "short post"
    assert report.truncated_long_posts == 1 and report.rows == 2
