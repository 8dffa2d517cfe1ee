"""Golden files: what a person reads (the demo recall's spreadsheet, a trace answer, the consumer pages' text), kept
as reviewed files under tests/golden/files and compared exactly.

`make golden` (UPDATE_GOLDEN=1) rewrites them instead of comparing; the diff (`git diff tests/golden/files`) is then
read by a person before it is committed. Without it a difference fails the test with a unified diff.

What changes from run to run (generated IDs, record times, today's date, scan counts) is replaced by a named
placeholder by the small functions here, and only that: everything else is compared as the product wrote it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def check(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name`` exactly (or rewrite the file when UPDATE_GOLDEN=1)."""
    path = FILES / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"no golden file tests/golden/files/{name}: run `make golden`, read it, commit it", pytrace=False)
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(keepends=True), text.splitlines(keepends=True),
                                            f"tests/golden/files/{name} (reviewed)", "this run", n=2))
        pytest.fail(f"{name} differs from its reviewed golden file. If the change is meant, run `make golden` and "
                    f"have the diff read before committing it.\n{diff}", pytrace=False)


# ---------------------------------------------------------------- volatile values -> placeholders

# Keys whose values are when or by whom something was recorded, not what happened.
VOLATILE_KEYS = frozenset({"created_at", "record_time", "recorded_at", "opened_at", "opened_by", "updated_at",
                           "capture_id", "element_id", "eid", "scan_count", "first_scan_at", "last_scan_at"})
DEMO_EVENT_ID = "urn:uuid:7a1c0d5e-"  # app/demo.py's fixed eventIDs: kept as they are
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RECALL_ID = re.compile(r"RC-\d{8}-[0-9A-F]{8}")
_ELEMENT_ID = re.compile(r"^\d+:[0-9a-f-]{36}:\d+$")


def normalise(value: object) -> object:
    """Return a JSON value with its volatile parts named instead of given.

    - the value of a key in VOLATILE_KEYS becomes "<key>" (when it is not null);
    - an event ID that is a generated UUID (not one of the demo's fixed IDs) becomes "<uuid-n>", numbered by first
      appearance, so the same event is still recognisably the same wherever it appears;
    - a recall case ID (RC-<opening date>-<random>) becomes "<recall-id>", a Neo4j element ID "<element-id>".
    """
    uuids: dict[str, str] = {}

    def text(s: str) -> str:
        if _ELEMENT_ID.match(s):
            return "<element-id>"

        def uuid(m: re.Match) -> str:
            found = m.group(0)
            if found.startswith(DEMO_EVENT_ID):
                return found
            return uuids.setdefault(found, f"<uuid-{len(uuids) + 1}>")

        return _RECALL_ID.sub("<recall-id>", _UUID.sub(uuid, s))

    def walk(v: object, key: str | None = None) -> object:
        if key in VOLATILE_KEYS and v is not None:
            return f"<{key}>"
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            return text(v)
        return v

    return walk(value)


def as_json(value: object) -> str:
    """A JSON value as a golden file: keys sorted, one field a line, Chinese as it reads."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# ---------------------------------------------------------------- a page's visible text

_BLOCK = frozenset({"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "fieldset",
                    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
                    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tr",
                    "ul", "br"})
_HIDDEN = frozenset({"script", "style", "template", "svg", "noscript", "head"})


class _Text(HTMLParser):
    """innerText, roughly: the text of <main>, a line per block element, table cells separated by " | "."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.depth_main = 0
        self.hidden = 0

    def _break(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.line)).strip()
        if text:
            self.lines.append(text)
        self.line = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "main":
            self.depth_main += 1
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in _BLOCK:
            self._break()
        elif tag in ("td", "th") and self.line:
            self.line.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag in _BLOCK:
            self._break()
        if tag == "main":
            self.depth_main = max(0, self.depth_main - 1)

    def handle_data(self, data: str) -> None:
        if self.depth_main and not self.hidden:
            self.line.append(data)


def visible_text(html: str) -> str:
    """The text a person reads in a page's <main>, one line per block (paragraph, heading, list item, table row).

    A simple stand-in for the browser's innerText: scripts, styles and SVG are skipped, whitespace collapses,
    table cells are joined with " | ". A closed <details> is included (one tap opens it).
    """
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._break()
    return "\n".join(parser.lines) + "\n"
