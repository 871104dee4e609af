"""Headless Chromium driven over the DevTools protocol on a pipe (no driver, no websocket library).

``--dump-dom`` shows a page's DOM, not what a reader sees: the Allure 3 report scrolls on load (it centres its
tree's first row), so a test of "the first screen" needs the layout. Chromium's ``--remote-debugging-pipe``
reads JSON messages, each ended by a NUL byte, on file descriptor 3 and writes its answers on 4; the browser
is spawned with ``posix_spawn`` (no Python code runs in the child, which is safe beside the test's threads).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import signal
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


class BrowserError(Exception):
    pass


class Chromium:
    """One headless browser with one page; ``open`` a URL, ``evaluate`` JavaScript in it, take a screenshot."""

    def __init__(self, executable: str, profile: Path, *, width: int = 1400, height: int = 1000) -> None:
        to_browser, self._writer = os.pipe()
        self._reader, from_browser = os.pipe()
        # Out of the way of 3 and 4 first, so that the two dup2 below cannot overwrite each other.
        high_in, high_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser))
        os.close(to_browser)
        os.close(from_browser)
        actions = [
            (os.POSIX_SPAWN_DUP2, high_in, 3),
            (os.POSIX_SPAWN_DUP2, high_out, 4),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ]
        args = [executable, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"]
        try:
            self.pid = os.posix_spawn(executable, args, dict(os.environ), file_actions=actions)
        finally:
            os.close(high_in)
            os.close(high_out)
        self._buffer = b""
        self._id = 0
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        attached = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        self.send("Page.enable", session=True)

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = False) -> Any:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._reader], [], [], left)[0]:
                    raise BrowserError(f"no answer to {method} within 60 s")
                chunk = os.read(self._reader, 1 << 16)
                if not chunk:
                    raise BrowserError("Chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:  # anything else is an event
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except BrowserError as exc:  # the page is still loading (no body yet)
                value, last = None, str(exc)
            if value:
                return value
            time.sleep(0.2)
        raise BrowserError(f"waited {timeout} s for {expression[:120]} {last}".strip())

    def open(self, url: str, ready: str, *, settle: float = 1.5) -> None:
        """Load ``url``, wait until ``ready`` (JavaScript) is true, then let the page's own scrolling finish."""
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for(f"!!({ready})")
        time.sleep(settle)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self._writer)
        os.close(self._reader)


# What the reader sees: the elements matching SELECTOR that the point at their centre reaches (on the screen, not
# clipped by a scrolling container, not under the report's top bar), with their text (for ``Chromium.evaluate``).
ON_SCREEN = """
(() => Array.from(document.querySelectorAll(SELECTOR)).filter(e => {
  const r = e.getBoundingClientRect();
  const x = r.left + Math.min(r.width / 2, 20), y = r.top + r.height / 2;
  if (r.height === 0 || y < 0 || y > window.innerHeight || x < 0 || x > window.innerWidth) return false;
  const hit = document.elementFromPoint(x, y);
  return hit !== null && (hit === e || e.contains(hit) || hit.contains(e));
}).map(e => e.innerText.trim()))()
"""


def on_screen(browser: Chromium, selector: str) -> list[str]:
    """The texts of the elements matching ``selector`` that a reader sees without scrolling."""
    value = browser.evaluate(ON_SCREEN.replace("SELECTOR", json.dumps(selector)))
    return list(value or [])
