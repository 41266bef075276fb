"""The README's picture of the workbench: the demo project served with `gripcode workbench --serve` and
photographed by headless Chromium (Debian's `chromium` package).

    python gripcode/docs/workbench_screenshot.py [--out gripcode/docs/workbench.png] [--chromium chromium]

It builds the demo project in a temporary folder, serves document 3 to the browser as the sample coder ana,
moves the cursor and selects a sentence with key presses sent through the DevTools protocol, takes the
screenshot, and stores it as a PNG of few colours (small enough for the repository). Nothing here runs in
the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 1400, 820


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


async def photograph(debug_port: int, page_url: str, keys: str) -> bytes:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{debug_port}/json") as response:
            target = next(t for t in await response.json() if t["type"] == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as devtools:
            counter = 0

            async def call(method: str, **params: object) -> dict:
                nonlocal counter
                counter += 1
                await devtools.send_json({"id": counter, "method": method, "params": params})
                async for message in devtools:
                    data = message.json()
                    if data.get("id") == counter:
                        return data.get("result", {})
                raise RuntimeError("the browser closed the connection")

            await call("Page.enable")
            await call("Page.navigate", url=page_url)
            await asyncio.sleep(8)  # the page connects and the app starts in a process of its own
            # Keys go to the terminal's hidden text field, which a reader's click would have focused.
            await call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
            for key in keys:
                await call("Input.dispatchKeyEvent", type="keyDown", key=key, text=key, unmodifiedText=key)
                await call("Input.dispatchKeyEvent", type="keyUp", key=key)
                await asyncio.sleep(0.4)
            await asyncio.sleep(2)
            shot = await call("Page.captureScreenshot", format="png")
    return base64.b64decode(shot["data"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("workbench.png"))
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--keys", default="}}}}s", help="keys pressed in the app before the picture")
    args = parser.parse_args()
    from PIL import Image

    from gripcode.demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        database = run_demo(Path(tmp) / "demo", say=lambda _: None)
        port, debug_port = free_port(), free_port()
        environment = {**os.environ, "GRIPCODE_DB": f"sqlite:///{database}", "GRIPCODE_CODER": "ana"}
        server = subprocess.Popen([sys.executable, "-m", "gripcode", "workbench", "3", "--serve", "--port", str(port)],
                                  env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        browser = subprocess.Popen([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                    f"--window-size={WIDTH},{HEIGHT}", f"--remote-debugging-port={debug_port}",
                                    f"--user-data-dir={Path(tmp) / 'browser'}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(f"http://127.0.0.1:{port}/")
            wait_for(f"http://127.0.0.1:{debug_port}/json/version")
            png = asyncio.run(photograph(debug_port, f"http://127.0.0.1:{port}/?fontsize=14", args.keys))
        finally:
            browser.terminate()
            server.terminate()
            browser.wait(30)
            server.wait(30)
    picture = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=48, method=Image.Quantize.MEDIANCUT)
    picture.save(args.out, optimize=True)
    print(f"Wrote {args.out} ({args.out.stat().st_size // 1024} KB, {picture.width} x {picture.height})")


if __name__ == "__main__":
    main()
