"""Claims on runs: several processes (grids, pool workers, Ray tasks) writing one results store.

A process computes a run only while it holds the run's claim, an exclusive ``fcntl.flock`` lock on
``runs/<task>/<variant>/.s<seed>-<hash>.claim``. Another process that reaches the same run waits
for the claim (a grid first does its other runs) and then finds the finished run and reuses it: a
run is computed once, however many grids share the store. The kernel releases the lock when its
process ends, however it ends (SIGKILL, a crash, a lost NFS client after its lease), so a claim is
never stale and there is no timeout to guess; the owner deletes the file when done, and a file a
killed process left is taken over by the next claimant.

A run's temporary folder (``.s<seed>-<hash>.<pid>@<host>.<random>.tmp``) names its writer. It is
removed as stale only by a process that holds the run's claim, and only when its writer ran on
this host and that pid is no longer alive: every writer holds the claim while its folder exists,
so no live writer is ever hit. A folder another machine left is never removed (this machine cannot
tell whether its process lives); it is inert (dot-named, read by no command).

Where the file system has no locks (``flock`` fails with ENOLCK or EOPNOTSUPP) runs go unclaimed:
two processes may then compute the same run, the first to finish keeps its folder and the other
drops its own, and stale folders are left alone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: The errnos of a file system without (working) locks: runs go unclaimed there.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL})


class RunBusy(Exception):  # noqa: N818 - a state, not an error: the grid does its other runs first
    """Another live process holds the run's claim (raised only when not waiting for it)."""

    def __init__(self, owner: str) -> None:
        super().__init__(f"being computed by {owner}")
        self.owner = owner


def host_tag() -> str:
    """This machine's name as a temporary folder carries it (no dots or separators)."""
    name = socket.gethostname() or "host"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:48] or "host"


def owner_tag() -> str:
    return f"{os.getpid()}@{host_tag()}"


def temp_prefix(final: Path) -> str:
    """The prefix of this process's temporary names for the run folder ``final``."""
    return f".{final.name}.{owner_tag()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def _stale(name: str, run: str) -> bool:
    """Whether the temporary folder ``name`` of the run folder ``run`` was left by a process of
    this host that is gone. Names without an owner (another version's) count as live."""
    middle = name[len(run) + 2:-len(".tmp")]  # ".<run>.<pid>@<host>.<random>.tmp"
    owner = middle.rpartition(".")[0]
    pid, at, host = owner.partition("@")
    if not at or not pid.isdigit() or host != host_tag():
        return False
    return int(pid) != os.getpid() and not _alive(int(pid))


def remove_stale_temps(final: Path) -> list[Path]:
    """Remove the temporary folders of the run folder ``final`` that dead processes of this host
    left. Call only while holding the run's claim. Each is first renamed away (so a folder is
    either still in place or wholly ours to delete, never half-deleted under a writer's rename)."""
    removed = []
    for path in final.parent.glob(f".{final.name}.*.tmp"):
        if not _stale(path.name, final.name):
            continue
        trash = final.parent / f"{temp_prefix(final)}trash-{secrets.token_hex(4)}.tmp"
        try:
            os.rename(path, trash)
        except OSError:
            continue
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(path)
    return removed


def _owner_of(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return f"process {text}" if text else "another process"


def _acquire(path: Path, wait: bool, on_wait: Callable[[str], None] | None) -> int | None:
    """An fd of ``path`` holding its exclusive lock; None on a file system without locks."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:  # a shared store's file of another user: lockable read-only
            fd = os.open(path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _owner_of(fd)
                if not wait:
                    raise RunBusy(owner) from None
                if on_wait is not None:
                    on_wait(owner)
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_LOCKS:
                return None
            raise
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)  # released and deleted while we waited: claim the file now at that name


@contextmanager
def claim(final: Path, *, wait: bool = True,
          on_wait: Callable[[str], None] | None = None) -> Iterator[bool]:
    """Hold the claim of the run whose folder is ``final`` (its parent must exist). Yields True
    when held, False on a file system without locks. Busy and ``wait`` False: :class:`RunBusy`;
    busy and ``wait``: ``on_wait(owner)``, then block until the owner is done."""
    path = final.parent / f".{final.name}.claim"
    fd = _acquire(path, wait, on_wait)
    if fd is None:
        yield False
        return
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, owner_tag().encode(), 0)
        except OSError:
            pass  # read-only file: the claim holds all the same, only its owner is not shown
        yield True
    finally:
        try:
            os.unlink(path)  # still ours: whoever opens the name now makes a new file
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
