"""Starting the hub and the demo receiver as real processes on loopback (demo, bench, tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> float:
    """Poll `url` until it answers 200; returns seconds waited. Raises if the process died or time ran out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def start_receiver(port: int | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "hub.tools.receiver", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_health", proc=proc)
    return proc, url


def start_hub(env: dict[str, str], port: int | None = None, log: Path | None = None, cwd: Path | None = None) -> tuple[subprocess.Popen, str, float]:
    """`knutpunkt serve` in a child process; returns (process, base URL, seconds until ready)."""
    port = port or free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    full_env = {**os.environ, **env}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(port), "--log-level", "warning"],
        env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/readyz", timeout=60, proc=proc)
    return proc, url, time.monotonic() - start


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
