"""Run GS1's own resolver conformance suite against our resolver in headless Chromium, on this machine.

GS1's suite (github.com/gs1/GS1DL-resolver-testsuite) is a browser script that asks a PHP helper (tester.php,
curl) to make its requests; the helper only tests https:// URIs. So this script:

1. copies the suite's files from a checkout into a temporary directory, pointing the script's helper URL at the
   local helper (the one line `const testUri = ...`), beside a bare page for it;
2. makes a throwaway self-signed certificate for 127.0.0.1 and serves the app over HTTPS with gunicorn (against
   NEO4J_URI, default the test server on 7697: load the demo there first, `flask demo load`);
3. serves the page and tester.php with PHP's built-in server (Debian php-cli and php-curl; curl trusts the
   throwaway certificate only);
4. opens the page in Debian's Chromium (never a downloaded browser), runs `testDL(<code>)` and prints every check
   with its status; exits 1 when a check fails that does not need the internet.

What needs the internet fails here and is reported as such: the suite validates the description file and the
linkset with ajv loaded from a CDN and schemas fetched online (rdFile, validLinkset; our own test validates the
linkset against GS1's schema, tests/scan/test_gs1_conformance.py), and only with a valid linkset does it go on to
the per-link checks (also covered by that test).

    .venv/bin/python scripts/gs1_resolver_suite.py --suite /path/to/GS1DL-resolver-testsuite \\
        --code /01/06901234001044/10/GB2026-1008/21/QSR4ZH85YDNFM2JF
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--ignore-certificate-errors"]
NEEDS_INTERNET = {"rdFile": "ajv from a CDN and GS1's description-file schema online",
                  "validLinkset": "ajv from a CDN and GS1's linkset schema online"}
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>GS1 resolver conformance</title>
<script src="GS1DigitalLinkToolkit.js"></script><script src="suite.js"></script></head>
<body><img id="rotatingcircle" alt=""><div id="gs1ResolverTests"></div></body></html>
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, context=None, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2, context=context)  # noqa: S310 - our own local servers
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def _prepare(suite: Path, work: Path) -> None:
    public = work / "public"
    public.mkdir()
    shutil.copy(suite / "tester.php", work / "tester.php")
    shutil.copy(suite / "GS1DigitalLinkToolkit.js", public / "GS1DigitalLinkToolkit.js")
    script = (suite / "GS1DigitalLinkResolverTestSuite.js").read_text("utf-8")
    lines = [("const testUri = '/tester.php';" if ln.startswith("const testUri =") else ln)
             for ln in script.splitlines()]
    (public / "suite.js").write_text("\n".join(lines) + "\n", "utf-8")
    (public / "index.html").write_text(PAGE, "utf-8")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)


def _run_suite(page_url: str, dl: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(page_url)
            page.evaluate(f"testDL({json.dumps(dl)}).then(() => {{ window.__done = true; }})")
            page.wait_for_function("window.__done === true", timeout=180_000)
            return page.evaluate("""() => Array.from(document.querySelectorAll('#testResults dt')).map(dt => {
                const dd = document.getElementById(dt.id + 'dd');
                return {id: dt.id, status: dd.className, msg: dd.textContent}; })""")
        finally:
            browser.close()


def main() -> int:
    """Run the suite and print its checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, type=Path, help="a checkout of gs1/GS1DL-resolver-testsuite")
    parser.add_argument("--code", required=True, help="the Digital Link path to test, e.g. /01/.../10/...")
    parser.add_argument("--neo4j", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7697"))
    args = parser.parse_args()
    for tool in ("php", "openssl", CHROMIUM):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing (apt-get install php-cli php-curl openssl chromium)")
    app_port, php_port = _free_port(), _free_port()
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="gs1suite-") as tmp:
        work = Path(tmp)
        _prepare(args.suite, work)
        cert = str(work / "cert.pem")
        try:
            env = {**os.environ, "NEO4J_URI": args.neo4j, "MIGRATE_ON_START": "0"}
            procs.append(subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "--workers", "1", "--threads", "4", "--worker-class", "gthread",
                 "--bind", f"127.0.0.1:{app_port}", "--certfile", cert, "--keyfile", str(work / "key.pem"),
                 "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            procs.append(subprocess.Popen(
                ["php", "-d", f"curl.cainfo={cert}", "-d", f"openssl.cafile={cert}", "-S", f"127.0.0.1:{php_port}",
                 "tester.php"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            import ssl
            _wait(f"https://127.0.0.1:{app_port}/.well-known/gs1resolver", ssl.create_default_context(cafile=cert))
            _wait(f"http://127.0.0.1:{php_port}/")
            rows = _run_suite(f"http://127.0.0.1:{php_port}/", f"https://127.0.0.1:{app_port}{args.code}")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=10)
    failed = []
    for r in rows:
        note = f"  [needs the internet: {NEEDS_INTERNET[r['id']]}]" if r["id"] in NEEDS_INTERNET else ""
        print(f"{r['status']:5} {r['id']:28} {r['msg'][:140]}{note}")
        if r["status"] == "fail" and r["id"] not in NEEDS_INTERNET:
            failed.append(r["id"])
    passed = sum(r["status"] == "pass" for r in rows)
    print(f"{len(rows)} checks: {passed} pass, {len(rows) - passed} not passed; failing offline-testable: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
