"""No engine process outlives the process that started its sweep by more than 2 s (a CLI killed, a kernel killed)."""
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from helpers.core.paths import REPO_ROOT
from helpers.measure import lifeline

#: Longest an engine process may outlive the process that started its sweep, seconds.
GRACE_S = 2.0


def test_watch_ends_the_process_once_its_parent_is_gone():
    ended = []
    lifeline.watch(parent=-1, poll_s=0.01, end=ended.append)  # -1 is nobody's parent: "already gone"
    assert ended == [0]


def test_only_the_forkserver_starts_a_lifeline():
    assert lifeline.in_forkserver() is False  # importing it anywhere else watches nothing


@pytest.mark.parametrize("with_lifeline", [True, False])
def test_a_process_with_a_lifeline_ends_when_its_parent_is_killed(with_lifeline):
    """The mechanism, alone: a child whose exit would take 30 s (an atexit handler, like a slow interpreter
    shutdown) ends within the grace time once its parent is killed, and, without a lifeline, outlives it."""
    start = "from helpers.measure import lifeline; lifeline.start(poll_s=0.01); " if with_lifeline else ""
    child = f"import atexit, time; {start}atexit.register(time.sleep, 30); time.sleep(60)"
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", parent], cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    root = psutil.Process(proc.pid)
    deadline = time.time() + 30
    while not root.children() and time.time() < deadline:
        time.sleep(0.05)
    (kid,) = root.children()
    time.sleep(0.5)  # the child has imported and started its lifeline
    root.kill()
    killed = time.time()
    proc.wait()
    try:
        assert bool(_outlived([kid], killed)) is not with_lifeline
    finally:
        if kid.is_running():
            kid.kill()


def _engine_processes(root: psutil.Process, timeout_s: float = 120) -> list[psutil.Process]:
    """``root``'s descendants once a worker forked by the forkserver is running (the sweep has begun)."""
    def forks_workers(k: psutil.Process) -> bool:
        try:  # a point child can end between the listing and the reading
            return "forkserver" in " ".join(k.cmdline()) and bool(k.children())
        except psutil.NoSuchProcess:
            return False

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if any(forks_workers(k) for k in root.children(recursive=True)):
            return root.children(recursive=True)
        time.sleep(0.1)
    pytest.fail(f"no engine worker started within {timeout_s} s")


def _outlived(processes: list[psutil.Process], since: float) -> list[str]:
    """The processes still running (not even a zombie) ``GRACE_S`` after ``since``."""
    while time.time() - since < GRACE_S:
        alive = []
        for p in processes:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return []
        time.sleep(0.02)
    def shown(p: psutil.Process) -> str:
        try:
            return f"{p.pid}: {' '.join(p.cmdline())[:80]}"
        except psutil.NoSuchProcess:
            return f"{p.pid}: (ended while listed)"

    return [shown(p) for p in alive]


def test_a_killed_cli_sweep_leaves_no_engine_process(tmp_path):
    cmd = [sys.executable, "-m", "helpers", "measure", "--models", "ENet,ResNet-18", "--batch-sizes", "1,2,4,8",
           "--metrics", "time", "--device", "cpu", "--profile", "smoke", "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        engine = _engine_processes(psutil.Process(proc.pid))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
    killed = time.time()
    proc.wait()
    assert _outlived(engine, killed) == []


def test_a_killed_notebook_kernel_leaves_no_engine_process(tmp_path):
    """A kernel measuring in a lesson (the sweep runs in the kernel's own process), killed as a restart or a
    papermill timeout kills it."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(REPO_ROOT), env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute(f"from helpers import measure_points\n"
                       f"measure_points(['ENet', 'ResNet-18'], [1, 2, 4, 8], ['time'], device='cpu', threads=1, "
                       f"results_root={str(tmp_path)!r}, progress=False)")
        kernel = psutil.Process(km.provisioner.pid)
        engine = _engine_processes(kernel)
        kernel.kill()
        killed = time.time()
        assert _outlived(engine, killed) == []
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
