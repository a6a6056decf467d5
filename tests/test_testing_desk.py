"""The sampling desk pages (testing.desk_views): the chooser, the scanning page, its worker."""

import json
import re

import pytest
from django.test import Client

from epigrid.testing import services
from epigrid.testing.models import Campaign, Desk
from tests.scoping import make_person
from tests.testing_cast import Round, new_tube


@pytest.fixture
def rnd(cast):
    return Round(cast, tube_prefix="TB", tube_length=10, tube_pattern="TB[0-9]{8}")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def config_of(response):
    match = re.search(r'<script id="desk-config" type="application/json">(.*?)</script>', response.text, re.S)
    assert match, "the page embeds its configuration as a json_script block"
    return json.loads(match.group(1))


def test_a_sampler_lands_on_the_desk_chooser(cast, rnd):
    response = client_for(rnd.sampler).get("/")
    assert response.status_code == 302 and response.url == "/testing/desk/"


def test_the_chooser_lists_only_the_desks_of_the_samplers_posts(cast, rnd):
    Desk.objects.create(point=rnd.point_a, name="停用台", is_active=False)
    response = client_for(rnd.sampler).get("/testing/desk/")
    assert response.status_code == 200
    html = response.text
    assert rnd.point_a.name in html and rnd.point_b.name not in html
    for desk in (rnd.desk_a1, rnd.desk_a2):
        assert f'href="/testing/desk/{desk.pk}/"' in html
    assert f'href="/testing/desk/{rnd.desk_b.pk}/"' not in html
    assert "停用台" not in html
    # Chinese by default.
    assert "选择采样台" in html

    other = client_for(rnd.sampler_b).get("/testing/desk/").text
    assert f'href="/testing/desk/{rnd.desk_b.pk}/"' in other and rnd.point_a.name not in other


def test_the_chooser_shows_running_rounds_only(cast, rnd):
    Campaign.objects.filter(pk=rnd.campaign.pk).update(status=Campaign.Status.FINISHED)
    response = client_for(rnd.sampler).get("/testing/desk/")
    assert f"/testing/desk/{rnd.desk_a1.pk}/" not in response.text
    assert 'data-testid="no-desks"' in response.text


def test_a_desk_outside_the_samplers_posts_is_404(cast, rnd):
    assert client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_b.pk}/").status_code == 404
    assert client_for(rnd.sampler).get("/testing/desk/999999/").status_code == 404
    assert client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_a2.pk}/").status_code == 200


def test_roles_that_do_not_sample_are_refused(cast, rnd):
    assert client_for(cast.grid_worker).get("/testing/desk/").status_code == 403
    assert client_for(cast.grid_worker).get(f"/testing/desk/{rnd.desk_a1.pk}/").status_code == 403
    anonymous = Client().get(f"/testing/desk/{rnd.desk_a1.pk}/")
    assert anonymous.status_code == 302 and "/login/" in anonymous.url


def test_the_desk_page_embeds_the_rounds_pooling_and_tube_rule(cast, rnd):
    response = client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_a1.pk}/")
    assert response.status_code == 200
    config = config_of(response)
    assert config["campaign"] == rnd.campaign.pk and config["desk"] == rnd.desk_a1.pk
    assert config["pooling"] == 10 and config["capacity"] == 10
    assert config["tubeRule"] == {"prefix": "TB", "length": 10, "pattern": "TB[0-9]{8}", "check": "none"}
    assert config["batchUrl"] == "/api/v1/samples/batch/"
    assert config["swUrl"] == "/testing/desk/sw.js" and config["scope"] == "/testing/desk/"
    assert config["openTube"] is None
    # The camera's reader comes from our own static files, never a CDN.
    assert config["polyfillUrl"].endswith("vendor/barcode-detector/index.js")
    assert config["wasmUrl"].endswith("vendor/zxing-wasm/zxing_reader.wasm")
    assert config["strings"]["changeTube"] == "换管"
    # No inline script: the page's code is a static file; only this page may compile WebAssembly.
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    csp = response["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "worker-src 'self'" in csp
    assert (
        "'wasm-unsafe-eval'" not in client_for(rnd.sampler).get("/testing/desk/")["Content-Security-Policy"]
    )


def test_the_desk_page_resumes_the_open_tube(cast, rnd):
    tube = new_tube()
    persons = [make_person(household=cast.household_a, name=f"居民{i}") for i in range(3)]
    services.ingest(rnd.sampler, [rnd.scan(p, tube) for p in persons])
    config = config_of(client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_a1.pk}/"))
    assert config["openTube"] == {"barcode": tube, "count": 3, "capacity": 10}
    # Another desk of the point has no open tube.
    assert config_of(client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_a2.pk}/"))["openTube"] is None


def test_the_household_round_says_one_tube_per_household(cast):
    rnd = Round(cast, pooling=0)
    config = config_of(client_for(rnd.sampler).get(f"/testing/desk/{rnd.desk_a1.pk}/"))
    assert config["pooling"] == 0 and config["capacity"] == 20 and config["perHousehold"] is True


def test_the_service_worker_answers_javascript_under_the_desk_scope(db):
    response = Client().get("/testing/desk/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b'addEventListener("fetch"' in body


def test_the_desk_page_passes_the_groups_url_and_the_naming_form(cast, rnd):
    from epigrid.testing.models import Group

    members = [make_person(household=cast.household_a, name=f"组员{i}") for i in range(2)]
    group = Group.objects.create(campaign=rnd.campaign, code="G001", area=cast.grid_a)
    group.members.set(members)
    client = client_for(rnd.sampler)
    response = client.get(f"/testing/desk/{rnd.desk_a1.pk}/")
    config = config_of(response)
    # desk.js puts the scanned group code in place of {code}.
    assert config["groupUrl"] == f"/api/v1/campaigns/{rnd.campaign.pk}/groups/{{code}}/"
    answer = client.get(config["groupUrl"].replace("{code}", "G001"), HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and [m["name"] for m in answer.json()["members"]] == ["组*0", "组*1"]
    assert client.get(config["groupUrl"].replace("{code}", "NOPE")).status_code == 404
    strings = config["strings"]
    assert strings["groupNeedsNetwork"].startswith("预编组需要联网")
    assert strings["groupTitle"] == "预编组 %(code)s · %(n)s 人"
    assert strings["groupNoRoom"] == "本管还能放 %(room)s 人，预编组有 %(n)s 人：请先换管。"
    assert strings["named"] == "姓名已登记：%(name)s"
    html = response.text
    for testid in (
        "name-form",
        "name-name",
        "name-phone",
        "name-skip",
        "group",
        "group-panel",
        "group-confirm",
    ):
        assert f'data-testid="{testid}"' in html, testid
    assert "扫预编组" in html and "跳过" in html and "电话（选填）" in html
