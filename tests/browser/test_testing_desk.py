"""The sampling desk on a phone (issue 9): a keyboard-wedge scanner types a tube and persons, the page
counts "第 N 人" and says "换管"; offline scans wait in IndexedDB and arrive exactly once; the camera's
barcode reader runs from our own static files (see conftest.py for the browser set-up)."""

import base64
import datetime
import io
import re
import time
from urllib.parse import urlsplit

import segno
from playwright.sync_api import expect

from epigrid.core.identity import make_resident_id
from epigrid.testing import services
from epigrid.testing.models import Find, Group, Sample, Tube
from tests.scoping import make_person
from tests.testing_cast import Round, new_tube

SAMPLER_PASSWORD = "x"  # tests.testing_cast.Round's samplers


def _no_sideways_scrolling(page):
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0, page.url


def _scanner(page, text):
    """A keyboard-wedge scanner: the characters, then Enter, into whatever has focus."""
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def _open_desk(page, log_in, rnd, desk):
    log_in(rnd.sampler, password=SAMPLER_PASSWORD)
    # A sampler lands on the desk chooser.
    assert urlsplit(page.url).path == "/testing/desk/"
    expect(page.locator("h1")).to_have_text("选择采样台")
    _no_sideways_scrolling(page)
    page.get_by_test_id("desk-link").filter(has_text=desk.name).tap()
    expect(page).to_have_url(re.compile(rf"/testing/desk/{desk.pk}/$"))
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(page.get_by_test_id("big")).to_have_text("请扫描试管条码")


def _queue(page):
    return page.get_by_test_id("queue")


def test_a_keyboard_scanner_fills_a_tube_and_the_desk_says_change_tube(cast, page, log_in, shot):
    rnd = Round(cast, pooling=5)
    persons = [make_person(household=cast.household_a, name=f"居民{i}") for i in range(6)]
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    status = page.get_by_test_id("status")

    first, second = new_tube(), new_tube()
    _scanner(page, first)
    expect(page.get_by_test_id("tube")).to_have_text(first)
    expect(page.get_by_test_id("big")).to_have_text("请扫描身份证或个人码")
    for n, person in enumerate(persons[:4], start=1):
        _scanner(page, person.doc_number)
        expect(page.get_by_test_id("big")).to_have_text(f"第 {n} 人")
        # The server's answer names the person masked, with the birth year only.
        expect(page.get_by_test_id("who")).to_have_text(f"居*{n - 1} · 1980")
        expect(page.get_by_test_id("scan")).to_be_focused()
    expect(page.get_by_test_id("change")).to_be_hidden()
    _scanner(page, persons[4].doc_number)
    expect(page.get_by_test_id("big")).to_have_text("第 5 人")
    expect(page.get_by_test_id("change")).to_be_visible()
    expect(page.get_by_test_id("change")).to_have_text("换管")
    expect(status).to_have_class(re.compile("is-change"))
    _no_sideways_scrolling(page)
    shot(page, "desk_change_tube")

    # A person before the next tube: refused on the spot, in red.
    _scanner(page, persons[5].doc_number)
    expect(status).to_have_class(re.compile("is-refused"))
    expect(page.get_by_test_id("message")).to_contain_text("请先扫描试管条码")

    # The next tube, the sixth person, then the tube ends early by hand and is sealed.
    _scanner(page, second)
    expect(page.get_by_test_id("tube")).to_have_text(second)
    _scanner(page, persons[5].doc_number)
    expect(page.get_by_test_id("big")).to_have_text("第 1 人")
    # A misread resident ID never leaves the page.
    _scanner(page, persons[0].doc_number[:17] + ("0" if persons[0].doc_number[17] != "0" else "1"))
    expect(status).to_have_class(re.compile("is-refused"))
    expect(page.get_by_test_id("message")).to_contain_text("身份证号无效")
    expect(page.get_by_test_id("big")).to_have_text("第 1 人")
    shot(page, "desk_refused")
    page.get_by_test_id("close-tube").tap()
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(page.get_by_test_id("sealable")).to_contain_text(second)
    page.get_by_test_id("seal-tube").tap()
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(_queue(page)).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("big")).to_have_text("请扫描试管条码")
    _no_sideways_scrolling(page)

    # The seal is a queued scan like the others: the server has it once the sender has sent it
    # (the queue count can read 0 for a moment before the tap's entry is stored).
    _eventually(lambda: Tube.objects.get(barcode=second).status == Tube.Status.SEALED)
    tube1, tube2 = Tube.objects.get(barcode=first), Tube.objects.get(barcode=second)
    assert (tube1.count, tube1.status) == (5, Tube.Status.CLOSED)
    assert (tube2.count, tube2.status) == (1, Tube.Status.SEALED)
    samples = Sample.objects.order_by("tube_id", "position")
    assert [(s.tube.barcode, s.position, s.person_id) for s in samples] == [
        *[(first, n, p.pk) for n, p in enumerate(persons[:5], start=1)],
        (second, 1, persons[5].pk),
    ]
    assert {s.desk_id for s in samples} == {rnd.desk_a1.pk}
    assert {s.scanned_by_id for s in samples} == {rnd.sampler.pk}


def test_a_tube_the_server_refuses_shows_red_with_the_reason(cast, page, log_in):
    rnd = Round(cast)
    a, b = (make_person(household=cast.household_a, name=n) for n in ("甲一", "乙二"))
    taken = new_tube()
    services.ingest(rnd.sampler, [rnd.scan(a, taken, desk=rnd.desk_a2)])
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    _scanner(page, taken)
    _scanner(page, b.doc_number)
    status = page.get_by_test_id("status")
    expect(status).to_have_class(re.compile("is-refused"))
    expect(page.get_by_test_id("message")).to_contain_text(rnd.desk_a2.name)
    expect(page.get_by_test_id("recent").locator("li.is-refused")).to_have_count(1)
    # The page wants a new tube now.
    expect(page.get_by_test_id("big")).to_have_text("请扫描试管条码")
    assert not Sample.objects.filter(person=b).exists()


def _eventually(check, timeout=15):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.1)


def _wait_for_offline_copy(page):
    """The service worker controls the page and keeps a copy of it for offline reloads."""
    # Generous timeouts: on a loaded two-core machine the worker's first start takes seconds.
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=30_000
    )
    page.wait_for_function(
        "async () => Boolean(await caches.match(location.href, {ignoreVary: true}))",
        polling=200,
        timeout=30_000,
    )


def test_offline_scans_wait_in_the_queue_and_arrive_exactly_once(cast, page, log_in, shot):
    rnd = Round(cast)
    persons = [make_person(household=cast.household_a, name=f"居民{i}") for i in range(3)]
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    # The page registers its worker from desk.js; a reload makes the worker control the page.
    page.wait_for_function("async () => Boolean(await navigator.serviceWorker.getRegistration())")
    page.reload()
    _wait_for_offline_copy(page)
    expect(page.get_by_test_id("net")).to_have_text("在线")

    page.context.set_offline(True)
    expect(page.get_by_test_id("net")).to_have_text("离线")
    tube = new_tube()
    _scanner(page, tube)
    for n, person in enumerate(persons, start=1):
        _scanner(page, person.doc_number)
        expect(page.get_by_test_id("big")).to_have_text(f"第 {n} 人")
        expect(page.get_by_test_id("message")).to_have_text("已离线保存，联网后自动上传。")
    expect(_queue(page)).to_have_text("待上传 3")
    _no_sideways_scrolling(page)
    shot(page, "desk_offline")

    # Reloaded without a network: the worker serves the page; the queue and the tube are still there.
    page.reload()
    expect(page.get_by_test_id("tube")).to_have_text(tube)
    expect(page.get_by_test_id("big")).to_have_text("第 3 人")
    expect(_queue(page)).to_have_text("待上传 3")
    assert Sample.objects.count() == 0

    page.context.set_offline(False)
    expect(_queue(page)).to_have_text("待上传 0", timeout=15_000)
    expect(page.get_by_test_id("net")).to_have_text("在线")
    # Exactly three: nothing lost, nothing doubled, even after the sender's retries.
    time.sleep(0.5)
    assert Sample.objects.count() == 3
    assert sorted(Sample.objects.values_list("position", flat=True)) == [1, 2, 3]
    assert set(Sample.objects.values_list("person_id", flat=True)) == {p.pk for p in persons}
    assert Tube.objects.get(barcode=tube).count == 3


def test_the_camera_reader_runs_from_our_own_static_files(cast, page, log_in):
    rnd = Round(cast)
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    buffer = io.BytesIO()
    segno.make("EPG1:12.1:abcdef", error="m").save(buffer, kind="png", scale=8, border=4)
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    # desk.js sets its hook when it has started; on a loaded machine that can follow the load event.
    page.wait_for_function("() => window.epigridDesk !== undefined")
    values = page.evaluate(
        """async (src) => {
            const img = new Image();
            img.src = src;
            await img.decode();
            return (await window.epigridDesk.detect(img)).map((code) => [code.format, code.rawValue]);
        }""",
        data_url,
    )
    assert values == [["qr_code", "EPG1:12.1:abcdef"]]
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts <= {urlsplit(page.url).netloc}, hosts
    assert any(url.endswith("/static/vendor/zxing-wasm/zxing_reader.wasm") for url in requested), requested


def test_a_document_typed_in_asks_the_name_and_keeps_an_unregistered_person(cast, page, log_in):
    rnd = Round(cast)
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    _scanner(page, new_tube())
    page.get_by_test_id("typed").tap()
    form = page.get_by_test_id("typed-form")
    expect(form).to_be_visible()
    form.locator("#typed-type").select_option("400")
    form.locator("#typed-number").fill("E12345678")
    form.get_by_role("button", name="加入本管").tap()
    # No name: asked for, nothing queued.
    expect(page.get_by_test_id("message")).to_contain_text("请输入受检者姓名")
    expect(form).to_be_visible()
    form.locator("#typed-name").fill("约翰")
    _no_sideways_scrolling(page)
    form.get_by_role("button", name="加入本管").tap()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(page.get_by_test_id("big")).to_have_text("第 1 人")
    expect(page.get_by_test_id("message")).to_contain_text("未登记人员")
    expect(_queue(page)).to_have_attribute("data-count", "0")
    sample = Sample.objects.get()
    assert (sample.via, sample.person_id) == ("typed", None)
    find = Find.objects.get()
    assert (find.doc_type, find.doc_number, find.name, find.area_id) == (
        "400",
        "E12345678",
        "约翰",
        cast.grid_a.pk,
    )


def test_a_scanned_id_not_in_the_registry_is_named_after_the_scan(cast, page, log_in, shot):
    rnd = Round(cast)
    known = make_person(household=cast.household_a, name="居民甲")
    stranger, other = (make_resident_id("110101", datetime.date(1990, 3, 7), n) for n in (901, 902))
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    tube = new_tube()
    _scanner(page, tube)
    _scanner(page, stranger)
    expect(page.get_by_test_id("big")).to_have_text("第 1 人")
    form = page.get_by_test_id("name-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("name-doc")).to_contain_text(f"{stranger[:4]}…{stranger[-4:]}")
    expect(page.get_by_test_id("name-name")).to_be_focused()
    _no_sideways_scrolling(page)
    shot(page, "desk_name_unregistered")
    # No name: asked for, nothing sent.
    form.get_by_role("button", name="保存姓名").tap()
    expect(page.get_by_test_id("message")).to_contain_text("请输入受检者姓名")
    expect(form).to_be_visible()
    page.get_by_test_id("name-name").fill("王小明")
    page.get_by_test_id("name-phone").fill("13800138000")
    form.get_by_role("button", name="保存姓名").tap()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(page.get_by_test_id("message")).to_contain_text("姓名已登记：王*明")
    expect(_queue(page)).to_have_attribute("data-count", "0")
    find = Find.objects.get(doc_number=stranger)
    assert (find.name, find.phone, find.area_id) == ("王小明", "+8613800138000", cast.grid_a.pk)
    assert Sample.objects.get(find=find).tube.barcode == tube

    # A registered person asks nothing; another stranger can be skipped (跳过).
    _scanner(page, known.doc_number)
    expect(page.get_by_test_id("big")).to_have_text("第 2 人")
    expect(page.get_by_test_id("who")).to_have_text("居*甲 · 1980")
    expect(form).to_be_hidden()
    _scanner(page, other)
    expect(page.get_by_test_id("big")).to_have_text("第 3 人")
    expect(form).to_be_visible()
    page.get_by_test_id("name-skip").tap()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("scan")).to_be_focused()
    assert Find.objects.get(doc_number=other).name == ""
    assert Sample.objects.count() == 3


def test_a_pre_formed_group_goes_into_the_open_tube_member_by_member(cast, page, log_in, shot):
    rnd = Round(cast, pooling=5)
    members = [make_person(household=cast.household_a, name=f"组员{i}") for i in range(3)]
    others = [make_person(household=cast.household_a, name=f"居民{i}") for i in range(3)]
    group = Group.objects.create(campaign=rnd.campaign, code="G001", area=cast.grid_a)
    group.members.set(members)
    _open_desk(page, log_in, rnd, rnd.desk_a1)
    group_button, message = page.get_by_test_id("group"), page.get_by_test_id("message")

    # Offline the group cannot be looked up: said so, and the desk stays in person mode.
    page.context.set_offline(True)
    group_button.tap()
    expect(message).to_contain_text("预编组需要联网")
    expect(group_button).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("big")).to_have_text("请扫描试管条码")
    page.context.set_offline(False)
    expect(page.get_by_test_id("net")).to_have_text("在线")

    first = new_tube()
    _scanner(page, first)
    for n, person in enumerate(others, start=1):
        _scanner(page, person.doc_number)
        expect(page.get_by_test_id("big")).to_have_text(f"第 {n} 人")
    # An unknown group code: said so, back to person mode.
    group_button.tap()
    expect(group_button).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("big")).to_have_text("请扫描预编组码")
    expect(page.get_by_test_id("scan")).to_be_focused()
    _scanner(page, "NOPE")
    expect(message).to_contain_text("本轮没有预编组 NOPE")
    expect(group_button).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("big")).to_have_text("第 3 人")

    # Three in the tube of five: a group of three does not fit, and the page says so first.
    group_button.tap()
    _scanner(page, "g001")
    panel = page.get_by_test_id("group-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("group-title")).to_have_text("预编组 G001 · 3 人")
    expect(page.get_by_test_id("group-members").locator("li")).to_have_text(
        ["组*0 · 1980", "组*1 · 1980", "组*2 · 1980"]
    )
    expect(page.get_by_test_id("group-room")).to_have_text("本管还能放 2 人，预编组有 3 人：请先换管。")
    expect(page.get_by_test_id("group-confirm")).to_be_disabled()
    _no_sideways_scrolling(page)
    shot(page, "desk_group_no_room")

    # The next tube (the first one ends with three); now the group fits.
    second = new_tube()
    expect(page.get_by_test_id("scan")).to_be_focused()
    _scanner(page, second)
    expect(page.get_by_test_id("tube")).to_have_text(second)
    expect(page.get_by_test_id("group-room")).to_have_text("")
    expect(page.get_by_test_id("group-confirm")).to_be_enabled()
    page.get_by_test_id("group-confirm").tap()
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("scan")).to_be_focused()
    expect(_queue(page)).to_have_attribute("data-count", "0")
    expect(page.get_by_test_id("big")).to_have_text("第 3 人")
    expect(page.get_by_test_id("who")).to_have_text("组*2 · 1980")
    recent = page.get_by_test_id("recent").locator("li")
    for n in (1, 2, 3):
        expect(recent.filter(has_text=f"第 {n} 人 · 预编组 G001")).to_contain_text(f"组*{n - 1}")
    _no_sideways_scrolling(page)
    shot(page, "desk_group_taken")

    samples = Sample.objects.filter(tube__barcode=second).order_by("position")
    assert [(s.position, s.person_id, s.via) for s in samples] == [
        (n, m.pk, "qr") for n, m in enumerate(members, start=1)
    ]
    assert len({s.client_id for s in samples}) == 3
    # The desk makes time-ordered ids (UUIDv7): the server's unique index grows at its right edge.
    assert [s.client_id.version for s in samples] == [7, 7, 7]
    assert sorted(s.client_id for s in samples) == [s.client_id for s in samples]
    tube1, tube2 = Tube.objects.get(barcode=first), Tube.objects.get(barcode=second)
    assert (tube1.count, tube1.status) == (3, Tube.Status.CLOSED)
    assert (tube2.count, tube2.status) == (3, Tube.Status.OPEN)
