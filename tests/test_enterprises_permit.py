"""The return-to-work permit 复工复产备案证明 as a PDF: what it says, for whom, masked as the reader's
rights require, refused before the permit, audited, with a QR code of the permit's page."""

import io
from decimal import Decimal

import pytest
import segno
from pypdf import PdfReader

from epigrid.audit.models import Action, ObjectChange
from epigrid.audit.services import history
from epigrid.core.pdf import qr_path
from epigrid.enterprises import services
from epigrid.enterprises.models import Application
from tests.enterprises_cast import USCC_A, works
from tests.test_control_pdf import text_of

S = Application.Status


@pytest.fixture
def w(cast):
    return works(cast)


@pytest.fixture
def permitted(w):
    w.a.prevention_lead = "赵防疫"
    w.a.address = "九州大道88号"
    w.a.save()
    return w.at(S.PERMITTED)


def _url(enterprise):
    return f"/enterprises/{enterprise.pk}/permit.pdf"


def _pdf(client, enterprise):
    response = client.get(_url(enterprise))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return response, PdfReader(io.BytesIO(response.content))


def _changes(application):
    return ObjectChange.objects.filter(object_id=application.pk, content_type__model="application")


def test_the_contact_prints_the_permit_with_what_it_was_issued_on(cast, w, permitted):
    response, reader = _pdf(cast.client_for(w.contact), w.a)
    text = text_of(reader)
    for expected in (
        "九州建材有限公司",
        USCC_A,
        "第一网格",  # the area, with its community
        "九州大道88号",
        permitted.permit_number,
        f"{permitted.permitted_from:%Y-%m-%d}",
        "赵防疫",  # the prevention lead, by name
        "王经理",
        "139****5678",  # the contact's phone, masked: the contact holds no reveal right
        "50.0",  # days of PPE cover at the permit: 100 masks ÷ (1 employee × 2 a day)
        "加强通风",  # the conditions of the approval
        "发文单位：九州街道",  # issued by the system (no officer on record): the enterprise's street
    ):
        assert expected in text, expected
    assert "13912345678" not in text and b"13912345678" not in response.content
    assert len(reader.pages) == 1
    # The QR code drawn is the permit's page, as an absolute address.
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    url = "http://testserver" + permitted.get_absolute_url()
    assert qr_path(segno.make(url, error="m", micro=False).matrix) in content
    # Audited on the application, as an export (nothing revealed).
    row = _changes(permitted).get(action=Action.EXPORT)
    assert row.user == w.contact and row.postchange_data == {"document": "return_to_work_permit"}


def test_the_issuing_unit_is_where_the_issuing_officer_reviews(cast, w):
    checked = w.at(S.CHECKED)
    officer = cast.client_for(cast.community_officer)
    assert officer.post(f"/enterprises/applications/{checked.pk}/permit/").status_code == 302
    checked.refresh_from_db()
    assert checked.status == S.PERMITTED
    _response, reader = _pdf(cast.client_for(w.contact), w.a)
    assert "发文单位：九州社区" in text_of(reader)


def test_a_reader_with_the_reveal_right_gets_the_full_phone_logged_as_a_reveal(cast, w, permitted):
    _response, reader = _pdf(cast.client_for(cast.community_officer), w.a)
    assert "13912345678" in text_of(reader)
    row = _changes(permitted).get(action=Action.REVEAL)
    assert row.user == cast.community_officer and row.postchange_data["fields"] == ["contact_phone"]


@pytest.mark.parametrize("user", ["grid_worker", "auditor", "commander"])
def test_whoever_sees_the_enterprise_may_print_it_masked_unless_they_may_reveal(cast, w, permitted, user):
    _response, reader = _pdf(cast.client_for(getattr(cast, user)), w.a)
    text = text_of(reader)
    assert permitted.permit_number in text
    assert ("13912345678" in text) == (user == "commander")


def test_outside_the_scope_it_is_not_found(cast, w, permitted):
    for user in (cast.grid_worker_b, w.contact_b, cast.nobody):
        assert cast.client_for(user).get(_url(w.a)).status_code == 404
    assert not _changes(permitted).filter(action__in=(Action.EXPORT, Action.REVEAL)).exists()


def test_before_the_permit_it_is_refused_with_the_reason(cast, w):
    checked = w.at(S.CHECKED)
    client = cast.client_for(w.contact)
    response = client.get(_url(w.a), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response.url == w.a.get_absolute_url()
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "has no return-to-work permit yet" in page
    assert 'data-testid="permit-pdf"' not in page
    assert not _changes(checked).filter(action=Action.EXPORT).exists()


def test_the_pages_offer_the_download_once_permitted(cast, w, permitted):
    client = cast.client_for(w.contact)
    for url in ("/enterprises/mine/", w.a.get_absolute_url(), permitted.get_absolute_url()):
        body = client.get(url).content.decode()
        assert f'href="{_url(w.a)}"' in body, url


def test_a_later_application_leaves_the_permit_printable(cast, w, permitted):
    later = w.draft(w.a)
    assert services.latest_permit(w.a) == permitted
    _response, reader = _pdf(cast.client_for(w.contact), w.a)
    assert permitted.permit_number in text_of(reader)
    assert later.status == S.DRAFT


def test_the_permit_keeps_the_ppe_cover_it_was_issued_on(w):
    app = w.at(S.PERMITTED)
    assert app.ppe_days_at_permit == Decimal("50.0")
    services.set_ppe(None, w.a, "mask", Decimal("4"), Decimal("2"))  # two days' cover now
    app.refresh_from_db()
    assert app.ppe_days_at_permit == Decimal("50.0")
    assert history(app).filter(target=S.PERMITTED).exists()
