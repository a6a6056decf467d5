"""Checkpoint staff at the gate on a phone (issue 12): a keyboard-wedge scan of a resident ID shows
what the system knows and the suggestion; one tap records the passage; with the signal gone the
passage waits in the phone's queue and is sent, once, when the signal is back. 390×844, Chinese."""

import re

import pytest
from playwright.sync_api import expect

from epigrid.checkpoints.models import Passage
from tests.checkpoint_cast import gates

pytestmark = pytest.mark.browser


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _taps_are_44px(locator):
    for i in range(locator.count()):
        box = locator.nth(i).bounding_box()
        assert box and box["height"] >= 44, box


def test_the_gate_records_a_passage_online_and_one_offline(cast, page, log_in, shot):
    g = gates(cast)
    resident = g.person(name="张门岗")
    other = g.person(name="李离线")
    log_in(g.staff_a, password="x")
    page.goto(f"/checkpoints/{g.gate_a.pk}/gate/")
    scan = page.get_by_test_id("scan")
    expect(scan).to_be_focused()
    _taps_are_44px(page.get_by_test_id("decisions").locator("button"))
    _taps_are_44px(page.get_by_test_id("camera"))  # a personal QR code through the phone's camera
    _no_sideways_scrolling(page)

    # A keyboard-wedge scanner types the number and Enter.
    scan.type(resident.doc_number + "\n")
    answer = page.get_by_test_id("answer")
    expect(answer).to_contain_text("张门岗")
    expect(answer).not_to_contain_text(resident.doc_number)
    expect(page.get_by_test_id("decide-pass")).to_have_class(re.compile("btn-dark"))
    page.get_by_test_id("code-green").tap()
    page.get_by_test_id("temperature").fill("36.6")
    page.get_by_test_id("decide-pass").tap()
    expect(page.get_by_test_id("message")).to_contain_text("通行")
    expect(page.get_by_test_id("queue-count")).to_have_text("0")
    expect(scan).to_be_focused()
    shot(page, "checkpoint_gate")
    assert Passage.objects.get().person == resident

    # The signal goes: the staff decide from the card and the code; the passage waits in the queue.
    page.context.set_offline(True)
    scan.type(other.doc_number + "\n")
    expect(page.get_by_test_id("message")).to_contain_text("离线")
    page.get_by_test_id("code-green").tap()
    page.get_by_test_id("decide-pass").tap()
    expect(page.get_by_test_id("queue-count")).to_have_text("1")
    assert Passage.objects.count() == 1
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_test_id("queue-count")).to_have_text("0")
    assert Passage.objects.count() == 2
    late = Passage.objects.get(person=other)
    assert late.decision == "pass" and late.findings == [] or late.suggested == "pass"
    _no_sideways_scrolling(page)
