"""Workbench test helpers: accounts made through graph/users.py, CSRF tokens read from the served forms, filled
spreadsheet templates uploaded as a person uploads them."""

from __future__ import annotations

import io
import re
import uuid

from openpyxl import load_workbook

from app.accounts import hash_password
from graph import users

PASSWORD = "correct horse 42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(graph, role: str = "producer", party_gln: str | None = None, password: str = PASSWORD,
              phone: str | None = None) -> dict:
    """A fresh account (unique user name) with a known password."""
    username = "t" + uuid.uuid4().hex[:12]
    made = users.create(graph, {"username": username, "role": role, "party_gln": party_gln, "phone": phone,
                                "display_name": "测试用户"}, hash_password(password), "tests")
    return {**made, "password": password}


def csrf(client, path: str = "/work/login") -> str:
    """The CSRF token of the form on a page (the session cookie stays in the client)."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def login(client, name: str, password: str = PASSWORD):
    """Post the log-in form as a browser would (with its CSRF token)."""
    return client.post("/work/login", data={"login": name, "password": password, "csrf_token": csrf(client)})


def post(client, path: str, data: dict, form_page: str = "/work/"):
    """Post a workbench form with the CSRF token of a page the user has open."""
    return client.post(path, data={**data, "csrf_token": csrf(client, form_page)})


def audit_entries(graph, path: str, actor: str) -> list[dict]:
    """The audit entries of requests to a path by an actor."""
    return [r["a"] for r in graph.query(
        "MATCH (a:AuditEntry {path: $path}) WHERE a.actor = $actor RETURN a {.*} AS a ORDER BY a.seq",
        read=True, path=path, actor=actor)]


def filled_template(client, kind: str, rows: list[list]) -> bytes:
    """Download a kind's XLSX template from the import page and fill its data rows as a person would."""
    got = client.get(f"/work/import/{kind}.xlsx")
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(got.data))
    sheet = book.worksheets[0]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_sheet(client, kind: str, data: bytes, action: str = "commit"):
    """Upload a filled template on the import page: check (a dry run) or commit."""
    return client.post("/work/import", data={"kind": kind, "action": action,
                                             "csrf_token": csrf(client, "/work/import"),
                                             "file": (io.BytesIO(data), f"{kind}.xlsx")},
                       content_type="multipart/form-data")
