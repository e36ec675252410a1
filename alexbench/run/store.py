"""The results store: one folder per finished run, named by the content hash of its spec.

Layout under the results root::

    runs/<task>/<variant>/s<seed>-<hash>/   run_spec.json, metrics.json, predictions.jsonl,
                                             provenance.json, [explanations.jsonl], checksums.json
    failed/<hash>.json                      the spec, error and traceback of a failed run
    cache/                                  augmentation and model caches

A run folder is written under a temporary name and renamed into place when complete, so a
crash leaves either nothing or a finished run; a rerun of a finished spec is served as is.
``checksums.json`` holds the sha256 of the content of what the run measured and predicted
(:data:`CHECKSUMMED`), so an edited result is named when it is read; runs stored before it
existed have none and are read as before (their files' structure checked only).
Several processes may share a store: a run is computed under its claim (:mod:`.claims`), and a
temporary folder is never removed while its writer may be alive.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alexbench.errors import AlexbenchError, DamagedRunError, StorageError
from alexbench.fsio import (
    atomic_write_json,
    atomic_write_jsonl,
    make_temp_dir,
    move_dir_into_place,
    name_problem,
    read_json,
    sha256_obj,
)
from alexbench.run import claims
from alexbench.run.runspec import RunSpec, RunSpecError
from alexbench.scoring.results import ExplanationRow, PredictionRow, ResultsError, RunMetrics

RESULTS_ENV = "ALEXBENCH_RESULTS"
SCHEMA_VERSION = 3  # 2: run_spec.task records labels, positive and metric params; 3: "posts" fingerprints, run id = runid.identity
#: Below this the disk is, for our purposes, full (the smallest run's files take more): refuse
#: before any work is done. A larger run on a nearly full disk still fails cleanly when written.
MIN_FREE_BYTES = 16 << 10
RESUME_HINT = "finished runs are kept; free space or pass --results elsewhere, then rerun to resume"
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
# How libraries that wrap the OSError in their own exception (SQLite, safetensors, torch) say it.
_FULL_MESSAGES = ("no space left on device", "disk quota exceeded", "database or disk is full",
                  "read-only file system", "attempt to write a readonly database")


def storage_exhausted(exc: BaseException) -> bool:
    """Whether ``exc`` or anything in its cause/context chain says the disk is full, over quota or
    read-only: a condition of the machine, not of the run, so a grid stops instead of failing
    every remaining run the same way."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageError):
            return True
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if any(text in str(current).lower() for text in _FULL_MESSAGES):
            return True
        current = current.__cause__ or current.__context__
    return False


def default_results_root() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or "results")


#: The file recording the sha256 of the content of each of :data:`CHECKSUMMED` (of its parsed
#: JSON, canonical: key order and spacing do not count, a changed value does).
CHECKSUMS = "checksums.json"
#: What a run measured and predicted: an edit to one is reported wherever it is read.
CHECKSUMMED = ("metrics.json", "predictions.jsonl", "explanations.jsonl")


def content_sha256(content: Any) -> str:
    """The checksum of a run file's parsed content (:data:`CHECKSUMS`)."""
    return sha256_obj(content)


@dataclass(frozen=True)
class StoredRun:
    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name.rsplit("-", 1)[-1]

    def _repair(self, name: str) -> str:
        if name in ("metrics.json", CHECKSUMS):
            return f"'alexbench rescore --run {self.path} --write' rebuilds it from the stored predictions"
        return f"delete the folder {self.path} and run it again (its spec is content-addressed)"

    def _read(self, name: str, *, lines: bool = False) -> Any:
        """A JSON file of the run (or JSON lines), with errors that name the file, the line and
        the repair."""
        if lines:
            return [row for _, row in self._numbered(name)]
        return self._parse(name, lines=False)

    def _numbered(self, name: str) -> list[tuple[int, Any]]:
        """The rows of a JSON-lines file of the run, each with its line number (blank lines skipped)."""
        return self._parse(name, lines=True)  # type: ignore[no-any-return]

    def _parse(self, name: str, *, lines: bool) -> Any:
        path = self.path / name

        def bad(line: int, exc: json.JSONDecodeError) -> DamagedRunError:
            return DamagedRunError(f"{path}:{line}: not valid JSON ({exc.msg}, column {exc.colno}); "
                                   f"{self._repair(name)}")

        try:
            with open(path, encoding="utf-8") as fh:
                if not lines:
                    try:
                        return json.load(fh)
                    except json.JSONDecodeError as exc:
                        raise bad(exc.lineno, exc) from None
                rows = []
                for number, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        rows.append((number, json.loads(line)))
                    except json.JSONDecodeError as exc:
                        raise bad(number, exc) from None
                return rows
        except FileNotFoundError:
            raise DamagedRunError(f"{path}: missing; {self._repair(name)}") from None
        except (UnicodeDecodeError, OSError) as exc:
            raise DamagedRunError(f"{path}: cannot be read ({exc}); {self._repair(name)}") from None

    def checksums(self) -> dict[str, str] | None:
        """The recorded checksums by file name; None for a run stored without them (before
        they existed). Raises :class:`DamagedRunError` when the file is damaged."""
        path = self.path / CHECKSUMS
        if not path.exists():
            return None
        sums = self._read(CHECKSUMS)
        if not isinstance(sums, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sums.items()):
            raise DamagedRunError(f"{path}: expected a table of file name -> sha256; {self._repair(CHECKSUMS)}")
        return sums

    def _verified(self, name: str, content: Any, verify: bool) -> Any:
        sums = self.checksums() if verify else None
        if sums is not None and name in sums and content_sha256(content) != sums[name]:
            raise DamagedRunError(f"{self.path / name}: edited since the run was stored (its content does not match "
                                  f"the sha256 in {CHECKSUMS}); {self._repair(name)}")
        return content

    def seal(self, contents: dict[str, Any], *, rebuild: bool = False) -> None:
        """Record the checksums of ``contents`` (file name -> parsed content, as just written),
        keeping the others' unless ``rebuild`` (or they cannot be read)."""
        try:
            sums = {} if rebuild else dict(self.checksums() or {})
        except DamagedRunError:
            sums = {}
        sums.update({name: content_sha256(content) for name, content in contents.items()})
        atomic_write_json(self.path / CHECKSUMS, sums)

    def spec(self) -> RunSpec:
        path = self.path / "run_spec.json"
        try:
            return RunSpec.from_dict(self._read("run_spec.json"), path)
        except RunSpecError as exc:
            raise DamagedRunError(f"{exc}; {self._repair('run_spec.json')}") from None

    def _metrics(self, verify: bool) -> tuple[dict[str, Any], RunMetrics]:
        raw = self._read("metrics.json")
        try:
            typed = RunMetrics.from_dict(raw, str(self.path / "metrics.json"))
        except ResultsError as exc:
            raise DamagedRunError(f"{exc}; {self._repair('metrics.json')}") from None
        return self._verified("metrics.json", raw, verify), typed

    def scores(self, *, verify: bool = True) -> RunMetrics:
        """metrics.json, typed: checked whole and (unless ``verify`` is False) against its checksum."""
        return self._metrics(verify)[1]

    def metrics(self, *, verify: bool = True) -> dict[str, Any]:
        """metrics.json as raw JSON (checked as :meth:`scores` checks it); readers use :meth:`scores`."""
        return self._metrics(verify)[0]

    def provenance(self) -> dict[str, Any]:
        return self._read("provenance.json")

    def predictions(self, *, verify: bool = True) -> list[dict[str, Any]]:
        """predictions.jsonl as raw JSON rows, unchecked but against its checksum; readers use
        :meth:`prediction_rows`."""
        return self._verified("predictions.jsonl", self._read("predictions.jsonl", lines=True), verify)

    def explanations(self, *, verify: bool = True) -> list[dict[str, Any]]:
        """explanations.jsonl as raw JSON rows (none without an explainer); readers use
        :meth:`explanation_rows`."""
        path = self.path / "explanations.jsonl"
        if not path.exists():
            return []
        return self._verified("explanations.jsonl", self._read("explanations.jsonl", lines=True), verify)

    def prediction_rows(self, *, verify: bool = True,
                        check: Callable[[list[Any]], None] | None = None) -> list[PredictionRow]:
        """predictions.jsonl, typed, each row checked (errors name the line and the field); ``check``
        is first given the raw rows (a caller's own checks of them, e.g. labels of the task)."""
        return self._typed_rows("predictions.jsonl", PredictionRow, verify, check)

    def explanation_rows(self, *, verify: bool = True) -> list[ExplanationRow]:
        """explanations.jsonl, typed (empty for a run without an explainer)."""
        if not (self.path / "explanations.jsonl").exists():
            return []
        return self._typed_rows("explanations.jsonl", ExplanationRow, verify)

    def _typed_rows(self, name: str, kind: Any, verify: bool, check: Callable[[list[Any]], None] | None = None) -> Any:
        numbered = self._numbered(name)
        rows = self._verified(name, [row for _, row in numbered], verify)
        if check is not None:
            check(rows)
        try:
            return [kind.from_dict(row, f"{self.path / name}:{line}") for line, row in numbered]
        except ResultsError as exc:
            raise DamagedRunError(f"{exc}; {self._repair(name)}") from None

    def check(self) -> None:
        """Raise :class:`DamagedRunError` unless the run's spec and metrics can be read whole
        (what reusing the run and its leaderboard row need)."""
        self.spec()
        self.scores()


def _seal_written(run: StoredRun) -> None:
    """Record the checksums of a run's files as they were written (read back, so the checksum is
    of exactly what a later read sees)."""
    run.seal({name: run._read(name, lines=name.endswith(".jsonl")) for name in CHECKSUMMED
              if (run.path / name).exists()}, rebuild=True)


def safe_part(text: str) -> str:
    """``text`` as one folder name: other characters than letters, digits and ``- _ .`` become
    ``_``, and a name of dots only (``.``, ``..``: the folder itself, its parent) underscores."""
    part = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return part if part.strip(".") else "_" * max(len(part), 1)


class ResultsStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_results_root()

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @staticmethod
    def check_names(task: str, variant: str) -> None:
        """Exit-2 error unless the task's and the variant's names make folder names (a long
        name, or a long ``-p`` list, would fail with ENAMETOOLONG when the run is stored)."""
        for kind, name in (("task", task), ("variant", variant)):
            problem = name_problem(safe_part(name))
            if problem:
                raise AlexbenchError(f"{kind} {name!r} cannot name its results folder: the folder name {problem}; "
                                     f"give the {kind} a shorter name"
                                     + (" (a [variants.NAME] table that extends it with these parameters) or "
                                        "fewer -p parameters" if kind == "variant" else ""))

    def run_dir(self, task: str, variant: str, seed: int, run_id: str) -> Path:
        self.check_names(task, variant)
        return self.root / "runs" / safe_part(task) / safe_part(variant) / f"s{seed}-{run_id}"

    def find(self, task: str, variant: str, seed: int, run_id: str) -> StoredRun | None:
        path = self.run_dir(task, variant, seed, run_id)
        return StoredRun(path) if (path / "metrics.json").is_file() else None

    def with_classifier_of(self, spec: RunSpec) -> StoredRun | None:
        """A stored, readable run of the same task whose augment → train → predict stages are
        ``spec``'s (:func:`alexbench.run.runid.classifier_side`): its classifier predictions are this
        run's. Damaged runs are passed over (``leaderboard`` and ``grid`` name them)."""
        want = spec.classifier_side()
        same_seed = f"s{spec.seed}-"  # run_dir's folder name: only these can match; no spec read for the rest
        for run in self.runs(spec.task.name):
            if not run.path.name.startswith(same_seed):
                continue
            try:
                if run.spec().classifier_side() == want:
                    run.check()
                    return run
            except DamagedRunError:
                continue
        return None

    def _cannot_write(self, exc: OSError) -> StorageError:
        return StorageError(f"cannot write results under {self.root}: {exc.strerror or exc} ({RESUME_HINT})")

    def ensure_writable(self) -> None:
        """Fail before any work is done if results cannot be written here, or there is no room."""
        try:
            for sub in ("runs", "failed", "cache"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            make_temp_dir(self.root / "runs", f".probe-{claims.owner_tag()}.").rmdir()  # unique across hosts
            free = shutil.disk_usage(self.root).free
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        if free < MIN_FREE_BYTES:
            raise StorageError(f"cannot write results under {self.root}: only {free:,} bytes free, "
                               f"{MIN_FREE_BYTES:,} needed to start a run ({RESUME_HINT})")

    @contextmanager
    def claim(self, task: str, variant: str, seed: int, run_id: str, *, wait: bool = True,
              on_wait: Callable[[str], None] | None = None) -> Iterator[bool]:
        """Hold the run's claim while computing and storing it (:func:`.claims.claim`); once held,
        temporary folders of the run that dead processes of this host left are removed."""
        final = self.run_dir(task, variant, seed, run_id)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        with ExitStack() as stack:
            try:
                held = stack.enter_context(claims.claim(final, wait=wait, on_wait=on_wait))
            except OSError as exc:
                raise self._cannot_write(exc) from exc
            if held:
                claims.remove_stale_temps(final)
            yield held

    def write_run(self, task: str, variant: str, seed: int, run_id: str, files: dict[str, Any],
                  replace: bool = False) -> StoredRun:
        """Write every file of a run into a temporary folder, then rename it into place. An existing
        finished twin is kept unless ``replace`` (``--force``), which swaps it out by renames. Other
        processes' temporary folders are never touched (see :meth:`claim`)."""
        final = self.run_dir(task, variant, seed, run_id)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = make_temp_dir(final.parent, claims.temp_prefix(final))
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        try:
            for name, content in files.items():
                if name.endswith(".jsonl"):
                    atomic_write_jsonl(tmp / name, content)
                else:
                    atomic_write_json(tmp / name, content)
            _seal_written(StoredRun(tmp))
            if final.exists() and replace:
                old = make_temp_dir(final.parent, claims.temp_prefix(final))
                try:
                    os.replace(final, old)  # onto an empty folder: atomic
                except FileNotFoundError:  # an unclaimed concurrent --force moved it first
                    pass
                move_dir_into_place(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:  # a finished twin from a concurrent process is kept: identical by construction
                move_dir_into_place(tmp, final)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise self._cannot_write(exc) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        (self.root / "failed" / f"{run_id}.json").unlink(missing_ok=True)
        return StoredRun(final)

    def record_failure(self, run_id: str, info: dict[str, Any]) -> Path | None:
        """Best effort: on a full or read-only disk the record is lost, never the run's own error."""
        path = self.root / "failed" / f"{run_id}.json"
        try:
            atomic_write_json(path, info)
        except OSError:
            return None
        return path

    def failures(self) -> list[dict[str, Any]]:
        folder = self.root / "failed"
        return [read_json(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def runs(self, task: str | None = None) -> Iterator[StoredRun]:
        base = self.root / "runs"
        pattern = f"{safe_part(task)}/*/*/metrics.json" if task else "*/*/*/metrics.json"
        for metrics in sorted(base.glob(pattern)):
            if not metrics.parent.name.startswith("."):
                yield StoredRun(metrics.parent)

    def get(self, ref: str) -> StoredRun:
        """A run by its folder path or by (a prefix of) its hash."""
        path = Path(ref)
        if (path / "metrics.json").is_file():
            return StoredRun(path)
        matches = [run for run in self.runs() if run.run_id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise AlexbenchError(f"no finished run {ref!r} under {self.root / 'runs'}")
        raise AlexbenchError(f"run {ref!r} is ambiguous: {', '.join(str(m.path) for m in matches)}")
