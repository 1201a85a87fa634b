"""The engine's lifeline: its processes end within a fraction of a second of the process that started the sweep.

The engine's workers are forked from a ``forkserver`` (helpers.measure.worker), not from the sweep's own
process, so the parent-death signal each worker asks for (``PR_SET_PDEATHSIG``) follows the forkserver. On its
own, the forkserver ends only once it notices its client is gone and has shut its interpreter down (seconds,
with torch loaded), and a worker measures on until then. Imported first in the forkserver (its preload), this
module starts a thread there that watches the process that started the server and ends the server at once
(``os._exit``) when that process is gone, whether it was killed (``kill -9``), timed out or restarted (a
notebook kernel); the workers and their point children die with the server.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable

__all__ = ["POLL_S", "watch", "start", "in_forkserver"]

#: Seconds between two looks at the parent (an idle server's cost: a few microseconds per look).
POLL_S = 0.05


def in_forkserver() -> bool:
    """Whether this code runs inside ``multiprocessing.forkserver.main`` (the server importing its preload)."""
    frame = sys._getframe()
    suffix = os.path.join("multiprocessing", "forkserver.py")
    while frame is not None:
        if frame.f_code.co_name == "main" and frame.f_code.co_filename.endswith(suffix):
            return True
        frame = frame.f_back
    return False


def watch(parent: int, poll_s: float = POLL_S, end: Callable[[int], None] = os._exit) -> None:
    """Block while ``parent`` is this process's parent; once it is gone (the process was re-parented), ``end(0)``."""
    while os.getppid() == parent:
        time.sleep(poll_s)
    end(0)


def start(parent: int | None = None, poll_s: float = POLL_S) -> threading.Thread:
    """Watch ``parent`` (default: this process's parent) from a daemon thread; returns the thread."""
    thread = threading.Thread(target=watch, args=(os.getppid() if parent is None else parent, poll_s),
                              name="engine-lifeline", daemon=True)
    thread.start()
    return thread


if in_forkserver():  # pragma: no cover - runs in the forkserver, which coverage does not follow
    start()
