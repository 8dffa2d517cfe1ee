"""The collector pause around large answers: off while any such request runs, back on after the last."""

from __future__ import annotations

import gc
import threading

from app.gcpause import gc_paused, large_answer


def test_nested_and_concurrent_blocks_resume_the_collector_after_the_last():
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    assert not gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other request is still building its answer
    release.set()
    t.join(10)
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_view_raises():
    @large_answer
    def view():
        assert not gc.isenabled()
        raise ValueError("boom")

    try:
        view()
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_large_answer_views_leave_the_collector_on(client, admin_token):
    response = client.get("/api/v1/recalls/RC-NONE", headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code == 404
    assert gc.isenabled()
