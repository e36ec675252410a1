"""The offline NLTK data folder, built from the real Debian WordNet files into a temp dir."""

from __future__ import annotations

from pathlib import Path

import nltk
import pytest

from alexbench import nltkdata
from alexbench.nltkdata import LEXNAMES, NltkDataError, setup

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


def test_missing_wordnet_names_the_package_and_command(tmp_path: Path) -> None:
    with pytest.raises(NltkDataError, match="apt-get install wordnet-base"):
        setup(tmp_path / "data", tmp_path / "no-wordnet")


def test_missing_resources_are_named_without_auto_setup(tmp_path: Path) -> None:
    with pytest.raises(NltkDataError, match="wordnet, stopwords, punkt_tab.*alexbench setup-data"):
        nltkdata.activate(tmp_path / "empty", auto_setup=False)


def test_offline_pos_tagger(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nltk.data, "path", [str(built)])
    tags = dict(nltkdata.pos_tag("the doctor quickly confirmed my positive test , 2 days".split()))
    assert tags["the"] == "DT" and tags["my"] == "PRP$" and tags[","] == "SYM" and tags["2"] == "CD"
    assert tags["doctor"] == "NN" and tags["quickly"] == "RB" and tags["confirmed"] == "VB"
    assert tags["positive"] == "JJ"
