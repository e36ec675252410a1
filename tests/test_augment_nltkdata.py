"""The offline NLTK data folder, built from the real Debian WordNet files into a temp dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nltk
import pytest
from alexbench_augment import nltkdata
from alexbench_augment.nltkdata import LEXNAMES, NltkDataError, setup

DEBIAN = nltkdata.DEBIAN_WORDNET


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not all((DEBIAN / name).is_file() for name in nltkdata.WORDNET_FILES):
        pytest.skip("Debian wordnet-base / wordnet-sense-index not installed (apt-get install wordnet-base "
                    "wordnet-sense-index)")
    target = tmp_path_factory.mktemp("nltk_data")
    report = setup(target, DEBIAN)
    assert report.changed
    return target


def test_layout_matches_what_nltk_reads(built: Path) -> None:
    wn_dir = built / "corpora" / "wordnet"
    for name in (*nltkdata.WORDNET_FILES, "lexnames"):
        assert (wn_dir / name).is_file(), name
        assert not (wn_dir / name).is_symlink()
    assert (wn_dir / "data.noun").stat().st_size == (DEBIAN / "data.noun").stat().st_size
    assert nltkdata.missing(built) == []


def test_generated_lexnames_agree_with_the_data_files(built: Path) -> None:
    # Every synset's lexicographer file number must name a file of the synset's own category.
    category = {"n": 1, "v": 2, "a": 3, "s": 3, "r": 4}
    seen: set[int] = set()
    for pos in ("noun", "verb", "adj", "adv"):
        with open(built / "corpora" / "wordnet" / f"data.{pos}", encoding="latin-1") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue  # licence header
                _offset, lex_filenum, ss_type = line.split()[:3]
                index = int(lex_filenum)
                seen.add(index)
                assert LEXNAMES[index][1] == category[ss_type], (pos, line[:40])
    assert seen == set(range(len(LEXNAMES)))


def test_nltk_wordnet_reader_works_on_the_folder(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    monkeypatch.setattr(nltk.data, "path", [str(built)])  # NLTK's sandbox reads only inside nltk.data.path

    wn = WordNetCorpusReader(str(built / "corpora" / "wordnet"), None)
    assert wn.get_version() == "3.0"
    assert wn.synset("dog.n.01").lexname() == "noun.animal"
    assert "ill" in {lemma.name() for s in wn.synsets("sick") for lemma in s.lemmas()}
    assert wn.morphy("tested", "v") == "test"
    assert wn.synset_from_sense_key("dog%1:05:00::") == wn.synset("dog.n.01")  # index.sense


def test_activate_makes_nltk_find_stopwords_and_punkt(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nltk.data, "path", [])
    nltkdata.activate(built, auto_setup=False)
    assert nltk.data.path[0] == str(built)
    words = nltk.corpus.reader.WordListCorpusReader(str(built / "corpora" / "stopwords"), ["english"]).words()
    assert len(words) == 179 and "the" in words and "wouldn't" in words
    nltkdata.require("punkt_tab")
    assert nltk.sent_tokenize("Dr. Smith tested positive. He is fine.") == ["Dr. Smith tested positive.",
                                                                          "He is fine."]


def test_setup_is_idempotent(built: Path) -> None:
    again = setup(built, DEBIAN)
    assert not again.changed
    assert all(a.startswith("ok ") for a in again.actions)


def test_missing_wordnet_names_both_routes_and_downloads_nothing(tmp_path: Path) -> None:
    with pytest.raises(NltkDataError) as exc:
        setup(tmp_path / "data", tmp_path / "no-wordnet")
    message = str(exc.value)
    assert f"WordNet 3.0 not found in {tmp_path / 'no-wordnet'}" in message and "\n" not in message
    assert "'apt-get install wordnet-base wordnet-sense-index'" in message
    assert "on a machine with network, 'alexbench setup-data --download' (NLTK's downloader)" in message
    assert not (tmp_path / "data" / "corpora" / "wordnet").exists()


# -- the download route (setup-data --download), through NLTK's real downloader, from a local mirror --

def _mirror(root: Path) -> str:
    """An NLTK data mirror holding WordNet 3.0 (zipped from Debian's files, in NLTK's layout) and
    its index; returns the index's file:// URL. NLTK's downloader refuses loopback servers (SSRF
    guard) but reads file:// mirrors inside its data path (NLTK_DATA)."""
    import hashlib
    import zipfile

    root.mkdir(mode=0o700)
    archive = root / "packages" / "corpora" / "wordnet.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("wordnet/", "")
        for name in nltkdata.WORDNET_FILES:
            z.write(DEBIAN / name, f"wordnet/{name}")
    data = archive.read_bytes()
    size = sum((DEBIAN / name).stat().st_size for name in nltkdata.WORDNET_FILES)
    (root / "index.xml").write_text(
        '<?xml version="1.0"?>\n<nltk_data><packages>\n'
        f'<package id="wordnet" name="WordNet" subdir="corpora" url="{archive.as_uri()}" size="{len(data)}" '
        f'unzipped_size="{size}" checksum="{hashlib.md5(data).hexdigest()}" '
        f'sha256_checksum="{hashlib.sha256(data).hexdigest()}" unzip="1" />\n'
        "</packages><collections></collections></nltk_data>\n")
    return (root / "index.xml").as_uri()


def _setup_data(*args: str, nltk_data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alexbench", "setup-data", *args], capture_output=True, text=True,
                          env={**os.environ, "NLTK_DATA": str(nltk_data)}, timeout=300)


def test_download_route_when_debian_wordnet_is_absent(built: Path, tmp_path: Path) -> None:
    index = _mirror(tmp_path / "mirror")
    target, no_debian = tmp_path / "nltk_data", tmp_path / "no-debian"
    no_debian.mkdir()
    common = ("--dir", str(target), "--wordnet-dir", str(no_debian))
    refused = _setup_data(*common, nltk_data=tmp_path / "mirror")
    assert refused.returncode == 1 and "alexbench setup-data --download" in refused.stderr
    result = _setup_data(*common, "--download", "--index-url", index, nltk_data=tmp_path / "mirror")
    assert result.returncode == 0, result.stderr
    assert (f"WordNet 3.0 not found in {no_debian}: downloading it with NLTK's downloader from {index} (network)"
            in result.stderr)
    assert f"downloaded WordNet with NLTK's downloader from {index}" in result.stdout
    assert nltkdata.missing(target) == [] and not (target / ".download").exists()
    for name in nltkdata.WORDNET_FILES:  # the same WordNet 3.0 as Debian's
        assert (target / "corpora" / "wordnet" / name).read_bytes() == (built / "corpora" / "wordnet" / name).read_bytes()
    again = _setup_data(*common, nltk_data=tmp_path / "mirror")  # later runs need neither route
    assert again.returncode == 0 and "ok corpora/wordnet (in place;" in again.stdout, again.stderr
    assert "already set up: nothing to do" in again.stdout


def test_download_route_offline_names_both_routes(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o700)
    no_debian = tmp_path / "no-debian"
    no_debian.mkdir()
    for index in ((empty / "index.xml").as_uri(), "http://127.0.0.1:9/index.xml"):
        result = _setup_data("--dir", str(tmp_path / "nltk_data"), "--wordnet-dir", str(no_debian), "--download",
                             "--index-url", index, nltk_data=empty)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1 and f"NLTK's downloader could not get WordNet from {index}" in error[0]
        assert "is this machine offline?" in error[0] and "'apt-get install wordnet-base" in error[0]
        assert "'alexbench setup-data --download'" in error[0]
        assert not (tmp_path / "nltk_data" / ".download").exists()


def test_debian_wordnet_wins_over_download(built: Path, tmp_path: Path) -> None:
    """Where Debian's files are present, --download downloads nothing (the index is unreachable)."""
    result = _setup_data("--dir", str(tmp_path / "nltk_data"), "--download", "--index-url",
                         "http://127.0.0.1:9/index.xml", nltk_data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"copied 14 WordNet files from {DEBIAN}" in result.stdout and "downloading" not in result.stderr


def test_missing_resources_are_named_without_auto_setup(tmp_path: Path) -> None:
    with pytest.raises(NltkDataError, match="wordnet, stopwords, punkt_tab.*alexbench setup-data"):
        nltkdata.activate(tmp_path / "empty", auto_setup=False)


def test_offline_pos_tagger(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nltk.data, "path", [str(built)])
    tags = dict(nltkdata.pos_tag("the doctor quickly confirmed my positive test , 2 days".split()))
    assert tags["the"] == "DT" and tags["my"] == "PRP$" and tags[","] == "SYM" and tags["2"] == "CD"
    assert tags["doctor"] == "NN" and tags["quickly"] == "RB" and tags["confirmed"] == "VB"
    assert tags["positive"] == "JJ"
