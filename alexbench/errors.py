"""Exceptions raised by the host. Every message names the file, line or field at fault.

Each error carries the command line's exit code: 2 when the input is wrong (an option, a task,
variant, study or prompt file, a data row, a name, a path the user gave), 1 when the work failed
(a run, a plugin, damaged or differing stored results, missing NLTK data, a full or read-only
disk). 0 is success and 130 an interrupt (README "Exit codes").
"""

from __future__ import annotations

import difflib
import signal as _signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EXIT_FAILURE = 1
EXIT_USER_ERROR = 2


class AlexbenchError(Exception):
    """Base class: an error the CLI reports as a one-line message, without a traceback. Unless a
    subclass says otherwise it is a user error (exit code 2)."""

    exit_code = EXIT_USER_ERROR


class FailureError(AlexbenchError):
    """The input was fine but the work failed (exit code 1)."""

    exit_code = EXIT_FAILURE


class DamagedRunError(FailureError):
    """A stored run's file cannot be read or lacks what it must hold (a disk error, an edit, a
    copy cut short): names the file, what is wrong and how to repair it."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


class UnknownNameError(AlexbenchError, KeyError):
    """A registry or catalogue lookup by a name that is not there."""

    def __init__(self, kind: str, name: str, known: Iterable[str], note: str = "") -> None:
        known = sorted(known)
        self.kind, self.name, self.known = kind, name, known
        listing = ", ".join(known) if known else "none registered"
        super().__init__(f"unknown {kind} {name!r}.{did_you_mean(name, known)} Known: {listing}.{note}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class PluginError(FailureError):
    """A plugin could not be loaded or broke the hook contract."""


class ParamError(AlexbenchError):
    """A component was given a parameter it does not declare, or of the wrong type."""


class UnsupportedTaskError(AlexbenchError):
    """A variant's component cannot run on the task (e.g. a single-label classifier on a
    multi-label task): refused before any work, naming the component and the task."""


class TaskFileError(AlexbenchError):
    """A task, variant or study file is malformed: names the file and the field."""

    def __init__(self, path: Path | str, field: str, message: str) -> None:
        self.path, self.field = Path(path), field
        where = f"{path}: {field}" if field else f"{path}"
        super().__init__(f"{where}: {message}")


class DataMissingError(AlexbenchError):
    """A task's data files are not where the task definition expects them."""


class DataError(AlexbenchError):
    """A data row is malformed: names the file, the line and the field."""

    def __init__(self, path: Path | str, line: int | None, field: str, message: str) -> None:
        self.path, self.line, self.field = Path(path), line, field
        loc = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{loc}: {field}: {message}" if field else f"{loc}: {message}")


class RunError(FailureError):
    """A run failed: its spec is kept and the error is recorded in the results store."""


class StorageError(FailureError):
    """The results store cannot be written (disk full, quota, read-only, not a folder). Stops a
    grid: every later run would fail the same way. Finished runs stay; a rerun resumes."""


class NativeCrash(FailureError):
    """Native code (llama.cpp, a C/C++ library) died in a child process: a signal, or an exit
    without a reply. The message names the part, the signal, its last output and ``alexbench
    doctor``; the runner records ``signal`` and the component in ``results/failed/`` and the grid
    goes on with its other runs."""

    def __init__(self, part: str, message: str, *, signal: str | None = None, exit_status: int | None = None) -> None:
        self.part, self.signal, self.exit_status = part, signal, exit_status
        #: The run's stage and component it hit (set by the runner).
        self.stage, self.component = "", ""
        super().__init__(message)


def native_crash_record(exc: BaseException) -> dict[str, Any] | None:
    """What a failed-run record says of a native crash in ``exc``'s chain: the signal (or exit
    status), the part that died, the stage and component of the run, and what to do."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NativeCrash):
            return {"signal": current.signal, "exit_status": current.exit_status, "part": current.part,
                    "stage": current.stage, "component": current.component,
                    "hint": "run `alexbench doctor` to check this machine's native builds; a rerun retries this run"}
        current = current.__cause__ or current.__context__
    return None


def signal_text(number: int) -> tuple[str, str]:
    """A signal's name and how to say it: ``("SIGSEGV", "SIGSEGV (Segmentation fault)")`` for 11."""
    try:
        sig = _signal.Signals(number)
    except ValueError:
        return f"signal {number}", f"signal {number}"
    description = _signal.strsignal(sig) or ""
    return sig.name, f"{sig.name} ({description})" if description else sig.name


def crash_output(text: str, limit: int = 800) -> str:
    """What a crashed child printed, on one line: from :mod:`faulthandler`'s "Fatal Python
    error" its innermost frames (it prints the most recent call first), else the last lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Fatal Python error")), None)
    shown = lines[start:start + 8] if start is not None else lines[-6:]
    return " | ".join(shown)[:limit]
