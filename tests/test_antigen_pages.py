"""Antigen pages: scope through the generic mixins (grid A vs grid B worker, community,
commander), the building's kits in one save, a household's results, photos (validated, served only
to whoever may see the report), follow-ups on top of the lists, the masked export."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from epigrid.antigen import services
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution
from epigrid.areas.models import Household
from epigrid.jobs.models import Job
from tests.scoping import ScopedViewTests, assert_no_full_numbers, make_person
from tests.test_antigen_services import make_round


def png(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _round(cast):
    return AntigenRound.objects.first() or make_round(cast)


class TestAntigenRoundScope(ScopedViewTests):
    model = AntigenRound
    list_url = "/antigen/"
    readonly_user = "commander"  # commanders view; rounds are drawn by streets and communities

    def make_object(self, cast, grid):
        rnd = make_round(cast, area=cast.community, name=f"{grid.name}的轮次")
        rnd.areas.set([grid])
        return rnd

    def edit_data(self, cast, obj):
        return {
            "name": obj.name + "（改）",
            "area": cast.community.pk,
            "areas": [cast.grid_a.pk],
            "starts_on": obj.starts_on.isoformat(),
            "ends_on": obj.ends_on.isoformat(),
            "allocation": "per_person",
            "kits_per": 1,
            "results_due_at": timezone.localtime(obj.results_due_at).strftime("%Y-%m-%dT%H:%M"),
            "follow_up_hours": 12,
        }

    def test_it_hides_the_object_from_another_grid(self, cast):
        # A round is filed on its organiser (the community): grid B's worker sees it upward, as
        # testing rounds are seen; what it holds in grid A stays hidden (the other classes).
        obj = self.make_object(cast, cast.grid_a)
        client = cast.client_for(cast.grid_worker_b)
        assert client.get(self.edit_url(obj)).status_code == 403


class TestKitDistributionScope(ScopedViewTests):
    model = KitDistribution
    list_url = "/antigen/kits/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        return services.hand_out(None, _round(cast), household, 2)[0]

    def list_text(self, obj):
        return obj.household.address

    def edit_data(self, cast, obj):
        return {"kits": 4, "note": "补发"}


class TestAntigenReportScope(ScopedViewTests):
    model = AntigenReport
    list_url = "/antigen/reports/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        person = make_person(household=household, name="赵六", phone="+8613812345678")
        return services.report(None, _round(cast), person, "negative")[0]

    def list_text(self, obj):
        return obj.person.name

    def edit_data(self, cast, obj):
        return {"result": "invalid", "tested_at": "", "note": "看不清"}


class TestAntigenFollowUpScope(ScopedViewTests):
    model = AntigenFollowUp
    list_url = "/antigen/followups/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        person = make_person(household=household, name="钱七", phone="+8613812345679")
        return services.report(None, _round(cast), person, "positive")[0].follow_up

    def list_text(self, obj):
        return obj.person.name

    def edit_data(self, cast, obj):
        return {"due_by": timezone.localtime(obj.due_by).strftime("%Y-%m-%dT%H:%M"), "note": "已约好"}


# -- the phone pages ------------------------------------------------------------------------------


@pytest.fixture
def rnd(cast):
    return make_round(cast)


def hand_out_url(rnd, cast, building=None):
    query = f"?area={cast.grid_a.code}" + (f"&building={building.pk}" if building else "")
    return reverse("antigen:hand_out", args=[rnd.pk]) + query


def test_a_grid_worker_hands_out_a_whole_building_in_one_save(cast, rnd):
    second = Household.objects.create(building=cast.building_a, unit="1", room="102")
    third = Household.objects.create(building=cast.building_a, unit="1", room="103")
    client = cast.client_for(cast.grid_worker)
    url = hand_out_url(rnd, cast, cast.building_a)
    page = client.get(url).content.decode()
    assert f'name="kits-{second.pk}"' in page
    response = client.post(
        url, {f"kits-{cast.household_a.pk}": "3", f"kits-{second.pk}": "2", f"kits-{third.pk}": ""}
    )
    assert response.status_code == 302
    assert dict(KitDistribution.objects.values_list("household__room", "kits")) == {"101": 3, "102": 2}


def test_a_bad_number_saves_nothing_and_keeps_what_was_typed(cast, rnd):
    second = Household.objects.create(building=cast.building_a, unit="1", room="102")
    client = cast.client_for(cast.grid_worker)
    with translation.override("en"):
        response = client.post(
            hand_out_url(rnd, cast, cast.building_a),
            {f"kits-{cast.household_a.pk}": "3", f"kits-{second.pk}": "99"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Kits per household are 0 to 50." in body and 'value="3"' in body and 'value="99"' in body
    assert not KitDistribution.objects.exists()


def test_the_building_page_is_not_for_another_grids_worker(cast, rnd):
    client = cast.client_for(cast.grid_worker_b)
    assert client.get(hand_out_url(rnd, cast, cast.building_a)).status_code == 404
    assert (
        client.post(
            hand_out_url(rnd, cast, cast.building_a), {f"kits-{cast.household_a.pk}": "2"}
        ).status_code
        == 404
    )


def test_a_household_is_marked_negative_with_one_tap(cast, rnd):
    members = [make_person(household=cast.household_a, name=n) for n in ("甲", "乙", "丙")]
    client = cast.client_for(cast.grid_worker)
    url = reverse("antigen:household", args=[rnd.pk, cast.household_a.pk])
    assert client.post(url, {"action": "all_negative"}).status_code == 302
    assert set(AntigenReport.objects.values_list("person_id", "result")) == {
        (p.pk, "negative") for p in members
    }


def test_a_positive_from_the_household_page_heads_the_lists(cast, rnd):
    person = make_person(household=cast.household_a, name="孙八")
    client = cast.client_for(cast.grid_worker)
    url = reverse("antigen:household", args=[rnd.pk, cast.household_a.pk])
    assert client.post(url, {"person": person.pk, "result": "positive"}).status_code == 302
    follow = AntigenFollowUp.objects.get(person=person)
    for page in ("/antigen/", rnd.get_absolute_url(), "/antigen/reports/"):
        body = client.get(page).content.decode()
        assert reverse("antigen:antigenfollowup_detail", args=[follow.pk]) in body, page
    # Grid B's worker has nothing to arrange.
    assert (
        'data-testid="follow-ups"'
        not in cast.client_for(cast.grid_worker_b).get("/antigen/").content.decode()
    )


def test_a_photo_is_stored_and_served_only_to_whoever_sees_the_report(cast, rnd):
    person = make_person(household=cast.household_a, name="周九")
    client = cast.client_for(cast.grid_worker)
    url = reverse("antigen:household", args=[rnd.pk, cast.household_a.pk])
    photo = SimpleUploadedFile("test.png", png(), content_type="image/png")
    assert client.post(url, {"person": person.pk, "result": "negative", "photo": photo}).status_code == 302
    report = AntigenReport.objects.get(person=person)
    assert report.photo.name.startswith(f"antigen/{rnd.pk}/") and "周九" not in report.photo.name
    photo_url = reverse("antigen:antigenreport_photo", args=[report.pk])
    response = client.get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert cast.client_for(cast.grid_worker_b).get(photo_url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.jpg", b"%PDF-1.4 not an image at all", "The photo is not a JPEG or PNG image."),
        ("photo.png", b"\x89PNG" + b"0" * (5 * 1024 * 1024), "The photo is larger than 5 MB."),
    ],
)
def test_a_photo_that_is_not_a_small_image_is_refused_and_nothing_saved(cast, rnd, name, content, message):
    person = make_person(household=cast.household_a, name="吴十")
    client = cast.client_for(cast.grid_worker)
    url = reverse("antigen:household", args=[rnd.pk, cast.household_a.pk])
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    with translation.override("en"):
        response = client.post(
            url, {"person": person.pk, "result": "negative", "photo": upload}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AntigenReport.objects.exists()


def test_completion_drills_down_to_households_for_every_level(cast, rnd):
    person = make_person(household=cast.household_a, name="郑一")
    services.hand_out(None, rnd, cast.household_a, 2)
    services.report(None, rnd, person, "invalid")
    url = reverse("antigen:completion", args=[rnd.pk])
    for user, query in (
        (cast.commander, f"?area={cast.district.code}"),
        (cast.street_officer, f"?area={cast.street.code}"),
        (cast.community_officer, f"?area={cast.community.code}"),
        (cast.grid_worker, ""),
        (cast.grid_worker, f"?area={cast.grid_a.code}&building={cast.building_a.pk}"),
    ):
        response = cast.client_for(user).get(url + query)
        assert response.status_code == 200, (user, query)
        assert_no_full_numbers(response.content.decode())
    body = (
        cast.client_for(cast.grid_worker)
        .get(url + f"?area={cast.grid_a.code}&building={cast.building_a.pk}")
        .content.decode()
    )
    assert cast.household_a.address in body
    assert cast.client_for(cast.grid_worker_b).get(url + f"?area={cast.grid_a.code}").status_code == 404


def test_the_report_export_is_masked(cast, rnd, django_capture_on_commit_callbacks):
    person = make_person(household=cast.household_a, name="王十一", phone="+8613812340000")
    services.report(None, rnd, person, "positive")
    client = cast.client_for(cast.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("jobs:export_start", args=["antigen-reports"]), {"query": f"round={rnd.pk}"}
        )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == "succeeded", job.result
    import openpyxl

    rows = list(openpyxl.load_workbook(job.output_file.open("rb")).active.iter_rows(values_only=True))
    assert any("阳性" in (cell or "") for row in rows for cell in row if isinstance(cell, str))
    text = " ".join(str(c) for row in rows for c in row if c)
    assert person.doc_number not in text and "13812340000" not in text
