"""Weight and first render of the panel's live page on a phone viewport, in Debian's Chromium.

Starts the real appliance (`appliance run --source sim`, a throw-away data dir, a PIN set with
`appliance set-pin`) on a free localhost port, unless --url points at a running one. Then loads
/live cold (a fresh browser context, nothing cached) several times at 390x844 and prints the bytes
transferred for the page (HTML, CSS, JS; the API data and the live stream excluded), and the median
first contentful paint and DOMContentLoaded. Budget: <= 150 KB.

    .venv/bin/python bench/page_weight.py [--repeats 7] [--url http://host:port --pin PIN]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
BUDGET_BYTES = 150 * 1024
BENCH_PIN = "page-weight-bench"


def _appliance() -> list[str]:
    exe = Path(sys.executable).with_name("appliance")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "appliance"]


def start_appliance(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """`appliance run --source sim` on a free port, with a PIN set; returns (process, base URL)."""
    import httpx

    config = data_dir / "config.json"
    config.write_text(json.dumps({"storage": {"data_dir": str(data_dir)}, "audio": {"sink": "null"}}))
    subprocess.run([*_appliance(), "set-pin", "--config", str(config), "--stdin"], input=BENCH_PIN + "\n",
                   text=True, check=True, timeout=60)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (data_dir / "run.log").open("w")
    proc = subprocess.Popen([*_appliance(), "run", "--config", str(config), "--source", "sim",
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"appliance run exited: {(data_dir / 'run.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/api/auth/status", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("appliance run did not start serving within 60 s")


MEASURE_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource').filter(r => !r.name.includes('/api/'));
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    bytes: nav.encodedBodySize + res.reduce((s, r) => s + r.encodedBodySize, 0),
    files: 1 + res.length,
    fcp_ms: fcp ? fcp.startTime : null,
    dcl_ms: nav.domContentLoadedEventEnd,
  };
}"""


def measure(url: str, pin: str, repeats: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        login = browser.new_context(viewport=PHONE)
        page = login.new_page()
        page.request.post(url + "/api/auth/login", data={"pin": pin})
        state = login.storage_state()
        login.close()
        for _ in range(repeats):
            context = browser.new_context(viewport=PHONE, is_mobile=True, storage_state=state)
            page = context.new_page()
            page.goto(url + "/live")
            page.wait_for_selector("#conn.live")
            results.append(page.evaluate(MEASURE_JS))
            context.close()
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--url", help="a running appliance (default: start one on the simulated runner)")
    parser.add_argument("--pin", default=os.environ.get("APPLIANCE_PIN"), help="its PIN (with --url)")
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            if not args.pin:
                raise SystemExit("--url needs --pin (or APPLIANCE_PIN)")
            url, pin = args.url.rstrip("/"), args.pin
        else:
            proc, url = start_appliance(Path(tmp))
            pin = BENCH_PIN
        try:
            results = measure(url, pin, args.repeats)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
    size = results[0]["bytes"]
    fcp = statistics.median(r["fcp_ms"] for r in results)
    dcl = statistics.median(r["dcl_ms"] for r in results)
    print(f"live page weight: {size} bytes ({size / 1024:.1f} KB) in {results[0]['files']} files; "
          f"budget {BUDGET_BYTES // 1024} KB: {'ok' if size <= BUDGET_BYTES else 'OVER'}")
    print(f"first contentful paint at 390x844: median {fcp:.0f} ms over {len(results)} cold loads "
          f"(min {min(r['fcp_ms'] for r in results):.0f}, max {max(r['fcp_ms'] for r in results):.0f}); "
          f"DOMContentLoaded median {dcl:.0f} ms")
    return 0 if size <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
