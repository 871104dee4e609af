"""Start, watch and stop local server processes: free ports, readiness polling, RSS and CPU from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

LOOPBACK = "127.0.0.1"


class ServerStartError(RuntimeError):
    """A server process exited or never answered HTTP within its start timeout."""


def free_port(host: str = LOOPBACK) -> int:
    """A port that was free a moment ago (the kernel picks it; a tiny race is acceptable for benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def answers_http(url: str, timeout: float = 1.0) -> bool:
    """True once anything at ``url`` answers HTTP, whatever the status (401/404/405 mean it is up)."""
    req = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group we created for ``proc``, then SIGKILL what is left after ``grace``."""
    if proc.poll() is None:
        # Each server gets its own session (start_new_session), so its pgid is its pid: only our tree is hit.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    # The leader may be gone while children it forked still run in the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class Server:
    """A running server started by :func:`run_server`."""

    name: str
    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path | None
    started_in_s: float

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.contextmanager
def run_server(
    name: str,
    cmd: Sequence[str],
    base_url: str,
    *,
    probe_path: str = "/",
    start_timeout: float = 60.0,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Run ``cmd`` until the block exits; yield once ``base_url + probe_path`` answers HTTP."""
    with contextlib.ExitStack() as stack:
        out: IO[bytes] | int = subprocess.DEVNULL
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(open(log_path, "wb"))
        t0 = time.monotonic()
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            # A file, never a pipe: nobody drains a pipe during the run and a chatty server would block on it.
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        stack.callback(stop_process_group, proc)
        deadline = t0 + start_timeout
        url = base_url.rstrip("/") + probe_path
        while not answers_http(url):
            if proc.poll() is not None:
                raise ServerStartError(
                    f"{name} exited with code {proc.returncode} before answering"
                    + (f"; see {log_path}" if log_path else "")
                )
            if time.monotonic() > deadline:
                raise ServerStartError(f"{name} did not answer {url} within {start_timeout:.0f} s")
            time.sleep(0.1)
        yield Server(name, proc, base_url, log_path, time.monotonic() - t0)


# --- /proc readings -------------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a server may fork workers)."""
    out = [pid]
    i = 0
    while i < len(out):
        p = out[i]
        i += 1
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                out.extend(int(c) for c in task.read_text().split())
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                # Fields after the parenthesised comm; utime and stime are fields 14 and 15.
                rest = f.read().rsplit(")", 1)[1].split()
            total += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine, all cores (from /proc/stat), to spot noisy neighbours."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class RssSampler:
    """Polls the RSS of a process tree in a thread; ``peak_kb`` is max(sampled tree RSS, kernel VmHWM)."""

    pid: int
    interval: float = 0.05
    peak_tree_kb: int = 0
    peak_hwm_kb: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        tree = descendants(self.pid)
        self.peak_tree_kb = max(self.peak_tree_kb, sum(_status_kb(p, "VmRSS") for p in tree))
        # VmHWM is the kernel's own high-water mark, so peaks between polls are not lost.
        self.peak_hwm_kb = max(self.peak_hwm_kb, _status_kb(self.pid, "VmHWM"))
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name=f"rss-{self.pid}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    @property
    def peak_kb(self) -> int:
        return max(self.peak_tree_kb, self.peak_hwm_kb)
