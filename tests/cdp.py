"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (no network, no
websocket library): one headless Chromium serves every page of a test module, and the tests can
run JavaScript, send real wheel and mouse events, and take screenshots."""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

import numpy as np

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-pipe"]


class Browser:
    """A headless Chromium driven over a pipe; ``open(url)`` gives a ``Page``."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="lg-chromium-")
        to_child_r, self._to_child = os.pipe()  # chromium reads commands on fd 3
        self._from_child, from_child_w = os.pipe()  # and writes replies on fd 4

        def fds():  # in the child, before exec: the pipe ends become fds 3 and 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)  # in case either is 3 or 4
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [path, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4, to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and wait for its answer (events that arrive meanwhile are kept)."""
        mid = self._send(method, params, session)
        while True:
            msg = self._read()
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, session: str | None = None) -> dict:
        """Wait for an event (or take it from those already received)."""
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and (session is None or
                                                   ev.get("sessionId") == session):
                    return self.events.pop(i)
            self.events.append(self._read())

    def open(self, url: str, width: int = 1200, height: int = 800) -> Page:
        """A new tab showing ``url`` at the given viewport size, after its load event."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session, target)
        page.call("Page.enable")
        page.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1,
                                                         "mobile": False})
        page.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", session)
        return page

    def close(self) -> None:
        """Ask chromium to quit, then make sure it has."""
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - it is going away either way
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: evaluate JavaScript, send input, take screenshots."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.call(method, params, self.session)

    def js(self, expression: str):
        """The value of a JavaScript expression (JSON-able values only)."""
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("text", "") + " " +
                               str(r["exceptionDetails"].get("exception", {})))
        return r["result"].get("value")

    def body(self, name: str) -> str | None:
        """A ``data-*`` attribute of the page's body."""
        return self.js(f"document.body.getAttribute('data-{name}')")

    def wheel(self, x: float, y: float, delta_y: float) -> None:
        """A real mouse-wheel event at viewport point (x, y)."""
        self.call("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y,
                                               "deltaX": 0, "deltaY": delta_y})

    def drag(self, x0: float, y0: float, x1: float, y1: float, steps: int = 5) -> None:
        """Press the left button at (x0, y0), move to (x1, y1), release."""
        self.call("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y0,
                                               "button": "left", "buttons": 1,
                                               "clickCount": 1})
        for i in range(1, steps + 1):
            x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
            self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y,
                                                   "button": "left", "buttons": 1})
        self.call("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y1,
                                               "button": "left", "buttons": 0,
                                               "clickCount": 1})

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        self.browser.call("Target.closeTarget", {"targetId": self.target})


def png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) to an (h, w, channels) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6) and interlace == 0
    bpp = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, w * bpp + 1)
    out = np.zeros((h, w * bpp), dtype=np.int32)
    prev = np.zeros(w * bpp, dtype=np.int32)
    for y in range(h):
        f, row = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = row
        elif f == 1:  # Sub: a running sum per channel
            cur = np.cumsum(row.reshape(w, bpp), axis=0).reshape(-1) % 256
        elif f == 2:  # Up
            cur = (row + prev) % 256
        else:  # Average / Paeth depend on the byte just decoded: plain ints, byte by byte
            r, up, cur = row.tolist(), prev.tolist(), [0] * (w * bpp)
            for x in range(w * bpp):
                a = cur[x - bpp] if x >= bpp else 0
                b = up[x]
                if f == 3:
                    pred = (a + b) >> 1
                else:
                    c = up[x - bpp] if x >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (r[x] + pred) & 255
            cur = np.array(cur, dtype=np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(h, w, bpp)[:, :, :3]


def has_cjk_font() -> bool:
    """True when fontconfig knows a font with Chinese glyphs."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def assert_cjk_glyphs(page: Page, selector: str, chars: list[str]) -> None:
    """Each of ``chars`` (found in the element ``selector``) puts ink on the page, different
    characters look different, and none is the box a font-less character is drawn as."""
    cells = page.js("""(function(sel, chars){
      function rectOf(el, ch){
        var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), t;
        while ((t = walker.nextNode())) {
          var i = t.data.indexOf(ch);
          if (i >= 0) { var r = document.createRange(); r.setStart(t, i);
            r.setEnd(t, i + ch.length); return r.getBoundingClientRect().toJSON(); }
        }
        return null;
      }
      var el = document.querySelector(sel);
      var probe = document.createElement('span');  // in the element's own font, at its end
      probe.textContent = ' \\u{10FFFD}\\u{10FFFC}';
      el.appendChild(probe);
      return {chars: chars.map(function(c){ return rectOf(el, c); }),
              tofu: [rectOf(probe, '\\u{10FFFD}'), rectOf(probe, '\\u{10FFFC}')]};
    })""" + f"({json.dumps(selector)}, {json.dumps(chars)})")
    assert all(r is not None for r in cells["chars"]), cells
    grey = png_pixels(page.screenshot()).mean(axis=-1)

    def ink(rect):
        x0, x1 = int(rect["left"]), int(np.ceil(rect["right"]))
        y0, y1 = int(rect["top"]), int(np.ceil(rect["bottom"]))
        return grey[y0:y1, x0:x1] < 128

    def trim(g):  # to the ink's bounding box: sub-pixel positions shift glyphs by a pixel
        rows, cols = np.flatnonzero(g.any(axis=1)), np.flatnonzero(g.any(axis=0))
        return g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] if rows.size else g

    glyphs = [ink(r) for r in cells["chars"]]
    for g in glyphs:
        assert 0.05 < g.mean() < 0.7  # each character put ink on the page
    h = min(g.shape[0] for g in glyphs)
    w = min(g.shape[1] for g in glyphs)
    crops = [g[:h, :w] for g in glyphs]
    for i in range(len(crops)):  # and different characters look different
        for j in range(i + 1, len(crops)):
            assert (crops[i] != crops[j]).mean() > 0.2, (i, j)
    # sanity of the method: two missing characters do draw the same box
    a, b = (trim(ink(r)) for r in cells["tofu"])
    hh, ww = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    assert (a[:hh, :ww] != b[:hh, :ww]).mean() < 0.15  # (sub-pixel offsets differ a little)
    for g in glyphs:  # and no character is that box
        g = trim(g)
        h2, w2 = min(g.shape[0], hh), min(g.shape[1], ww)
        assert g.shape != a.shape or (g[:h2, :w2] != a[:h2, :w2]).mean() > 0.2
