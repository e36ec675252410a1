"""The data loader: line-precise errors for every defect, counted fixes, never a silent drop."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexbench.config.tasks import load_task
from alexbench.data.splits import carve, load_dataset, read_split_file
from alexbench.errors import DataError
from alexbench.interfaces import Post

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


def _csv_task(tiny_task_file: Path, extra: str = "") -> object:
    tiny_task_file.write_text(tiny_task_file.read_text().replace(
        "[columns]", f'[format]\ntype = "csv"\nquoting = "minimal"\n{extra}\n[columns]'))
    return load_task(tiny_task_file)


@pytest.mark.parametrize(("body", "line", "field", "message"), [
    # a stray quote at the start of a post: the field runs on into the next row, which it swallows
    (b'1,ok,0\n2,"hello,1\n3,world",0\n4,x,1\n', 3, "text",
     "a quote opens a field here and closes only on line 4, swallowing line 3, which is a whole row by itself"),
    (b'1,ok,0\n2,"says hi,0\n3,a,1\n4,b,0\n5,c"" d",1\n', 3, "text", "swallowing line 3"),
    # a quote that is never closed: reported where it opens, not where the file ends
    (b'1,ok,0\n2,"unclosed,1\n3,next,0\n4,more,1\n', 3, "text", "a quote opened on this line is never closed (the "
                                                             "file ends on line 5)"),
    (b'1,ok,0\n2,fine,1\n3,"unclosed at the end,0\n', 4, "text", "a quote opened on this line is never closed"),
    (b'1,ok,0\n2,"two\nlines" then text,1\n', 3, "text", "malformed csv (',' expected after '\"') in the row that "
                                                          "starts here and runs to line 4"),
])
def test_a_stray_quote_in_csv_is_an_error_at_its_line(tiny_task_file: Path, body: bytes, line: int, field: str,
                                                      message: str) -> None:
    task = _csv_task(tiny_task_file)
    path = _split(task, b"tweet_id,text,label\n" + body)
    with pytest.raises(DataError) as exc:
        read_split_file(path, task.splits["train"], task.labels)
    assert (exc.value.line, exc.value.field) == (line, field), str(exc.value)
    assert message in str(exc.value) and f"{path}:{line}: {field}: " in str(exc.value)


def test_posts_over_several_lines_in_csv_are_still_one_post(tiny_task_file: Path) -> None:
    task = _csv_task(tiny_task_file)
    path = _split(task, b'tweet_id,text,label\n1,"first line\nsecond, line\n\nfourth",0\n2,"a ""quote"", 1",1\n3,x,0\n')
    posts, report = read_split_file(path, task.splits["train"], task.labels)
    assert [(p.id, p.text, p.line) for p in posts] == [("1", "first line\nsecond, line\n\nfourth", 2),
                                                       ("2", 'a "quote", 1', 6), ("3", "x", 7)]
    assert report.rows == 3


def test_every_row_of_a_real_csv_release_is_loaded(shared_data: Path) -> None:
    """CONSTRAINT 2021 has hundreds of quoted posts over several lines: all load, none swallowed."""
    from alexbench.config.tasks import TaskCatalog

    from .conftest import REPO

    task = TaskCatalog([REPO / "plugins" / "alexbench_tasks" / "tasks"], shared_data).load("constraint2021")
    data = load_dataset(task)
    assert [len(data.train), len(data.dev), len(data.test)] == [6420, 2140, 2140]


@pytest.mark.parametrize(("body", "message"), [
    (HEADER, "no data rows: every split needs at least one labelled post"),
    (HEADER + b"1\ta post\t\n", "no data rows (1 unlabelled rows skipped)"),
])
def test_an_empty_split_is_an_error_not_a_run_of_zeros(tiny_task_file: Path, body: bytes, message: str) -> None:
    tiny_task_file.write_text(tiny_task_file.read_text().replace('[splits.test]\nfile = "test.tsv"',
                                                                '[splits.test]\nfile = "test.tsv"\nunlabeled = "skip"'))
    task = load_task(tiny_task_file)
    path = _split(task, body, "test")
    with pytest.raises(DataError, match=re.escape(message)) as exc:
        load_dataset(task)
    assert exc.value.path == path


def test_an_empty_split_fails_the_run_command_before_any_run(tiny_task_file: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    for split in ("train", "test"):
        (tiny_task_file.parent / "data" / f"{split}.tsv").write_bytes(HEADER)
        result = subprocess.run([sys.executable, "-m", "alexbench", "run", "-t", str(tiny_task_file), "-v", "tfidf",
                                 "--no-progress"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 2 and "no data rows" in result.stderr and "Traceback" not in result.stderr
        assert f"{split}.tsv" in result.stderr and not (tmp_path / "results" / "runs").exists()
        make_task = tiny_task_file.parent / "data" / f"{split}.tsv"
        make_task.write_bytes(HEADER + b"1\ta post\t1\n2\tanother\t0\n")


def test_a_carve_that_leaves_a_split_empty_is_an_error(tiny_task_file: Path) -> None:
    tiny_task_file.write_text(tiny_task_file.read_text().replace('[splits.dev]\nfile = "dev.tsv"',
                                                                '[splits.dev]\nfrom = "train"\nfraction = 0.01'))
    task = load_task(tiny_task_file)
    with pytest.raises(DataError, match="carving 0.01 of its 18 rows for the dev split leaves 0 rows for dev"):
        load_dataset(task)


def test_posts_longer_than_the_csv_modules_field_limit_are_truncated(tiny_task_file: Path) -> None:
    """The csv module refuses fields over 131,072 characters; max_chars promises truncation."""
    task = load_task(tiny_task_file)
    huge = b"x" * 300_000
    path = _split(task, HEADER + b"1\t" + huge + b"\t0\n2\tshort\t1\n")
    posts, report = read_split_file(path, task.splits["train"], task.labels)
    assert len(posts[0].text) == task.splits["train"].format.max_chars and report.truncated_long_posts == 1
    csv_task = _csv_task(tiny_task_file)
    path = _split(csv_task, b'tweet_id,text,label\n1,"' + huge + b'",0\n')
    posts, report = read_split_file(path, csv_task.splits["train"], csv_task.labels)
    assert posts[0].text == "x" * 20000 and report.truncated_long_posts == 1
