"""Pass pages: the generic scope tests, issuing (one pass, a zone at once), the gate's scan page
(scan, pick the person, exit or return; a refusal in big Chinese words), revocation, the card PDF
(audited, masked names, the QR drawn), the uses list and its masked export."""

import io

import openpyxl
import pytest
from pypdf import PdfReader

from epigrid.audit.models import Action, ObjectChange
from epigrid.core.identity import mask_document
from epigrid.jobs.models import Job, Status
from epigrid.passes import codes, pdf
from epigrid.passes.models import HouseholdPass, PassUse
from tests.scoping import ScopedViewTests, assert_no_full_numbers
from tests.test_control_pdf import text_of
from tests.test_passes_cast import local, passes


@pytest.fixture
def ps(cast):
    return passes(cast)


def _household(cast, grid):
    return cast.household_b if grid == cast.grid_b else cast.household_a


class TestHouseholdPassPages(ScopedViewTests):
    model = HouseholdPass
    list_url = "/passes/"
    viewer = "community_officer"
    outsider = "other_officer"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        return passes(cast).household_pass(_household(cast, grid))

    def list_text(self, obj):
        return obj.household.address

    def edit_data(self, cast, obj):
        return {"valid_until": "2026-04-30", "note": "延期至四月底"}


def test_gate_staff_see_the_passes_of_their_community_but_not_the_uses(cast, ps):
    hp = ps.household_pass()
    client = cast.client_for(cast.checkpoint)
    assert client.get(hp.get_absolute_url()).status_code == 200
    assert client.get("/passes/uses/").status_code == 403
    assert client.get(f"/passes/{hp.pk}/card.pdf").status_code == 403
    assert client.get("/passes/zone/").status_code == 403


def test_the_zone_form_issues_a_pass_per_household(cast, ps):
    client = cast.client_for(cast.community_officer)
    assert client.get("/passes/zone/").status_code == 200
    response = client.post(
        "/passes/zone/", {"zone": ps.zone.pk, "persons": 1, "days": 2, "valid_until": "2026-12-31"}
    )
    assert response.status_code == 302
    assert HouseholdPass.objects.filter(zone=ps.zone, status="active").count() == 2
    page = client.get(response["Location"]).content.decode()
    assert cast.household_a.address in page and cast.household_b.address in page


def test_the_issue_form_issues_a_medical_pass(cast, ps):
    client = cast.client_for(cast.community_officer)
    response = client.post(
        "/passes/add/",
        {
            "household": cast.household_a.pk,
            "kind": "medical",
            "holder": ps.mother.pk,
            "valid_until": "2026-12-31",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hp = HouseholdPass.objects.get(kind="medical")
    assert hp.holder == ps.mother and hp.persons_per_window is None


def test_the_scan_page_scans_picks_the_person_and_records_the_exit(cast, ps):
    hp = ps.household_pass(valid_from=local(2026, 1, 1, 8, 0), valid_until=local(2099, 1, 1, 0, 0))
    client = cast.client_for(cast.checkpoint)
    page = client.get("/passes/scan/").content.decode()
    assert 'data-testid="scan-code"' in page and "autofocus" in page and ps.gate.name in page
    code = codes.make_code(hp)
    panel = client.post("/passes/scan/", {"code": code}).content.decode()
    assert panel.count('data-testid="scan-member"') == 2 and "李*英" in panel
    assert ps.mother.doc_number not in panel
    form = {
        "code": code,
        "person": ps.mother.pk,
        "direction": "exit",
        "client_id": "0b6f3a7e-8d0e-4c1a-9c55-2f1d7a0c9e11",
    }
    answer = client.post("/passes/scan/", form).content.decode()
    assert 'data-allowed="1"' in answer
    # The same form sent again (a double tap) records nothing more.
    client.post("/passes/scan/", form)
    assert PassUse.objects.filter(outcome="allowed").count() == 1
    refused = client.post(
        "/passes/scan/", {"code": code, "person": ps.son.pk, "direction": "exit"}
    ).content.decode()
    assert 'data-allowed="0"' in refused and 'data-reason="quota_used"' in refused
    assert "不予通行" in refused or "拒绝" in refused or "Refused" in refused
    assert_no_full_numbers(refused)


def test_the_scan_page_says_an_unknown_code_is_unknown(cast, ps):
    answer = (
        cast.client_for(cast.checkpoint).post("/passes/scan/", {"code": "EPP1:1.1:forged"}).content.decode()
    )
    assert 'data-reason="unknown"' in answer


def test_officials_cannot_open_the_scan_page(cast, ps):
    assert cast.client_for(cast.community_officer).get("/passes/scan/").status_code == 403


def test_revoking_from_the_pass_page_needs_a_reason(cast, ps):
    hp = ps.household_pass()
    client = cast.client_for(cast.community_officer)
    client.post(f"/passes/{hp.pk}/revoke/", {"reason": ""})
    assert HouseholdPass.objects.get(pk=hp.pk).status == "active"
    client.post(f"/passes/{hp.pk}/revoke/", {"reason": "户内人员已搬离"})
    assert HouseholdPass.objects.get(pk=hp.pk).status == "revoked"
    assert cast.client_for(cast.auditor).post(f"/passes/{hp.pk}/revoke/", {"reason": "x"}).status_code == 403


def test_the_card_pdf_draws_the_code_with_masked_names_and_is_audited(cast, ps):
    hp = ps.household_pass()
    response = cast.client_for(cast.community_officer).get(f"/passes/{hp.pk}/card.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "no-store"
    text = text_of(PdfReader(io.BytesIO(response.content)))
    assert "李*英" in text and "王*明" in text and "李秀英" not in text
    assert ps.mother.doc_number not in text
    assert_no_full_numbers(response.content.decode("latin-1"))
    row = ObjectChange.objects.get(object_id=hp.pk, action=Action.EXPORT)
    assert row.postchange_data == {"pass_card": 1} and row.area_path == cast.grid_a.path
    drawn = pdf.render("t", pdf.build_cards([hp], {hp.pk: [ps.mother]})).codes_drawn
    assert drawn == [codes.make_code(hp)]


def test_the_cards_of_a_zone_print_in_one_pdf(cast, ps):
    client = cast.client_for(cast.community_officer)
    client.post("/passes/zone/", {"zone": ps.zone.pk, "persons": 1, "days": 2, "valid_until": "2026-12-31"})
    response = client.get(f"/passes/cards.pdf?zone={ps.zone.pk}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert ObjectChange.objects.filter(action=Action.EXPORT).count() == 2


def test_the_uses_list_and_its_export_are_masked(cast, ps, django_capture_on_commit_callbacks):
    hp = ps.household_pass()
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0))
    ps.scan(hp, ps.son, at=local(2026, 3, 2, 9, 0))
    client = cast.client_for(cast.auditor)
    page = client.get("/passes/uses/").content.decode()
    assert "李秀英" in page and 'data-testid="export-form"' in page
    assert_no_full_numbers(page)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/jobs/export/pass-uses/", {"query": ""})
    job = Job.objects.filter(user=cast.auditor).latest("created")
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("时间", "方向", "结果", "原因", "姓名", "证件号码")
    assert {r[5] for r in rows[1:]} == {mask_document(ps.mother.doc_number), mask_document(ps.son.doc_number)}
    assert ps.mother.doc_number.encode() not in data
    assert any(r[2] == "拒绝" or r[3] for r in rows[1:])


def test_the_uses_list_is_empty_for_another_community(cast, ps):
    hp = ps.household_pass()
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0))
    page = cast.client_for(cast.other_officer).get("/passes/uses/").content.decode()
    assert "李秀英" not in page
