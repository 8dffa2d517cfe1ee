"""Errors under /work/ answer with the workbench's own page in the user's language (Chinese by default, English by
the switch), never Flask's default page or the API's JSON; the API keeps its JSON. On the real app and Neo4j."""

from __future__ import annotations

import pytest

from tests.web.helpers import login, make_user

PAGES = {
    # status: (the Chinese title, the English title)
    400: ("页面已过期", "This page expired"),
    403: ("无权访问", "Not allowed"),
    404: ("未找到", "Not found"),
    405: ("未找到", "Not found"),
}


def _is_problem_page(response, status: int, lang: str) -> bool:
    text = response.get_data(as_text=True)
    zh, en = PAGES[status]
    title = zh if lang == "zh" else en
    return (response.status_code == status and response.mimetype == "text/html"
            and 'id="problem"' in text and f"<h1>{title}</h1>" in text and f"HTTP {status}" in text
            and response.headers["Content-Language"] == ("zh-CN" if lang == "zh" else "en")
            and "<title>404 Not Found</title>" not in text and '"error"' not in text)


@pytest.fixture
def producer(app, graph, factory):
    client = app.test_client()
    assert login(client, make_user(graph, party_gln=factory.party()["gln"])["username"]).status_code == 303
    return client


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_that_does_not_exist_is_the_workbench_page_in_the_users_language(client, producer, lang):
    for who in (client, producer):  # logged out or in
        if lang == "en":
            who.set_cookie("lang", "en")
        assert _is_problem_page(who.get("/work/no-such-page"), 404, lang)
        assert _is_problem_page(who.get("/work/lots/06901234567892"), 404, lang)
    assert _is_problem_page(producer.get("/work/lots/06999999999999/NO-SUCH-LOT"), 404, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_my_role_may_not_open_is_the_forbidden_page(producer, lang):
    assert _is_problem_page(producer.get(f"/work/admin/users?lang={lang}"), 403, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_form_sent_without_its_token_is_the_bad_request_page(producer, lang):
    producer.set_cookie("lang", lang)
    assert _is_problem_page(producer.post("/work/ship", data={"quantity": "1"}), 400, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_wrong_method_is_the_workbench_page_with_its_allow_header(producer, lang):
    answer = producer.get(f"/work/receive?lang={lang}")
    assert _is_problem_page(answer, 405, lang) and "POST" in answer.headers["Allow"]


def test_the_api_keeps_its_json_errors(client):
    missing = client.get("/api/v1/no-such-resource")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"
