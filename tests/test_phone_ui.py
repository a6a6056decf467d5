"""Phone-first, Chinese-everywhere pages (issue 8): error pages, list cards, pagination, empty
lists, titles, phone keyboards and who is shown the API menu. The layout itself is measured in the
browser (tests/browser/test_phone_lists.py)."""

import datetime
import re

import pytest
from django.test import Client, RequestFactory
from django.utils import formats, translation
from django.views import defaults

from tests.scoping import make_person

HOME_LINK = 'href="/"'


def _text(response):
    return response.content.decode()


def _h1(response):
    return re.search(r"<h1[^>]*>(.*?)</h1>", _text(response), re.S).group(1).strip()


# -- error pages ------------------------------------------------------------------------------------


def test_it_explains_a_403_in_chinese_with_the_navigation_and_a_way_back(cast):
    # Protocols are administered by system administrators only; the commander is refused.
    response = cast.client_for(cast.commander).get("/control/protocols/")
    assert response.status_code == 403
    html = _text(response)
    assert '<html lang="zh-hans">' in html
    assert "没有权限" in html and "请联系系统管理员" in html
    assert HOME_LINK in html and "返回首页" in html
    assert 'href="/people/"' in html  # the navigation is there
    assert "Forbidden" not in html


def test_it_explains_a_404_in_chinese_with_a_way_back(cast):
    response = cast.client_for(cast.grid_worker).get("/people/987654/")
    assert response.status_code == 404
    html = _text(response)
    assert "找不到页面" in html and "不在你负责的区域内" in html
    assert HOME_LINK in html
    assert "Not Found" not in html


def test_it_renders_the_500_page_without_a_database_or_a_context():
    # No db fixture: any query would fail this test. Django renders 500.html with an empty context.
    response = defaults.server_error(RequestFactory().get("/people/"))
    assert response.status_code == 500
    html = _text(response)
    assert "服务器出错" in html and "请稍后再试" in html
    assert HOME_LINK in html
    assert "epigrid/epigrid.css" in html


def test_it_explains_a_400_in_chinese():
    response = defaults.bad_request(RequestFactory().get("/"), Exception("bad"))
    assert response.status_code == 400
    html = _text(response)
    assert "请求有误" in html and HOME_LINK in html


def test_it_explains_a_csrf_failure_in_chinese(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.grid_worker)
    response = client.post("/logout/")
    assert response.status_code == 403
    html = _text(response)
    assert "页面已过期" in html and "刷新后重新提交" in html
    assert HOME_LINK in html
    assert "CSRF verification failed" not in html


# -- lists ------------------------------------------------------------------------------------------


def test_it_labels_every_cell_with_its_column_for_the_phone_cards(cast):
    make_person(household=cast.household_a, name="李秀英")
    html = _text(cast.client_for(cast.grid_worker).get("/people/"))
    assert 'class="table-container table-responsive table-cards"' in html
    assert 'data-label="证件号码"' in html
    assert 'data-label="重点关爱标签"' in html


def test_it_says_next_page_in_the_pagination_not_next_stage(cast):
    make_person(household=cast.household_a, name="李秀英")
    make_person(household=cast.household_a, name="王建国")
    html = _text(cast.client_for(cast.grid_worker).get("/people/?per_page=1"))
    pagination = re.search(r'<nav aria-label="分页".*?</nav>', html, re.S).group(0)
    assert "下一页" in pagination and "下一阶段" not in pagination
    assert "第1页" in pagination


def test_it_keeps_next_stage_for_a_measure_step():
    with translation.override("zh-hans"):
        assert translation.gettext("next") == "下一页"
        assert translation.pgettext("measure step", "next") == "下一阶段"


@pytest.mark.parametrize("url", ["/people/", "/areas/households/?q=999", "/control/"])
def test_it_says_so_when_a_list_is_empty(cast, url):
    html = _text(cast.client_for(cast.grid_worker).get(url))
    assert re.search(r'<td colspan="\d+" class="text-muted" data-testid="empty-text">暂无记录。</td>', html)


def test_it_offers_the_key_person_categories_as_checkboxes_behind_a_filters_button(cast):
    html = _text(cast.client_for(cast.grid_worker).get("/control/?category=close_contact"))
    assert "<select" not in re.search(r'<div class="check-choices".*?</div>\s*</fieldset>', html, re.S).group(
        0
    )
    assert re.search(
        r'<input type="checkbox" name="category" class="form-check-input" value="close_contact"[^>]*checked',
        html,
    )
    assert "multiple" not in re.search(r'<form method="get".*?</form>', html, re.S).group(0)
    # A filter in use keeps the folded filters open on a phone.
    assert 'class="collapse d-sm-block show" id="more-filters"' in html
    assert 'data-testid="filter-toggle">筛选 <span class="badge text-bg-primary ms-1">1</span>' in html


def test_it_folds_unused_filters_away(cast):
    html = _text(cast.client_for(cast.grid_worker).get("/control/?q=李"))
    assert 'class="collapse d-sm-block" id="more-filters"' in html
    assert 'data-testid="filter-toggle">筛选</button>' in html


# -- titles, forms, menu ----------------------------------------------------------------------------


def test_it_joins_the_words_of_a_title_without_a_stray_space(cast):
    client = cast.client_for(cast.community_officer)
    assert _h1(client.get("/people/add/")) == "新增人员"
    assert _h1(client.get("/jobs/import/residents/")).startswith("导入")
    assert " " not in _h1(client.get("/jobs/import/residents/"))


def test_it_asks_for_a_phone_number_with_the_dial_pad(cast):
    html = _text(cast.client_for(cast.community_officer).get("/people/add/"))
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)
    assert 'type="tel"' in phone and 'inputmode="tel"' in phone


def test_it_gives_checkbox_choices_rows_big_enough_to_tap(cast):
    html = _text(cast.client_for(cast.community_officer).get("/people/add/"))
    tags = re.search(r'<div class="check-choices" id="id_tags">.*?\n</div>', html, re.S).group(0)
    assert re.search(
        r'<div class="form-check"><input type="checkbox" name="tags" class="form-check-input"', tags
    )


def test_it_asks_for_whole_numbers_and_decimals_with_the_number_pad():
    from django import forms

    from epigrid.core.forms import StyledFormMixin

    class Form(StyledFormMixin, forms.Form):
        days = forms.IntegerField()
        temperature = forms.DecimalField()
        contact_phone = forms.CharField()

    html = str(Form())
    assert re.search(r'<input type="number" name="days"[^>]*inputmode="numeric"', html)
    assert re.search(r'<input type="number" name="temperature"[^>]*inputmode="decimal"', html)
    assert re.search(r'<input type="tel" name="contact_phone"[^>]*inputmode="tel"', html)


def test_it_shows_the_api_menu_only_to_the_command_centre_and_administrators(cast):
    def menu_has_api(user):
        return 'href="/api/docs/"' in _text(cast.client_for(user).get("/areas/"))

    assert menu_has_api(cast.commander)
    assert menu_has_api(cast.admin)
    for user in (cast.grid_worker, cast.community_officer, cast.street_officer, cast.auditor):
        assert not menu_has_api(user), user


# -- dates ------------------------------------------------------------------------------------------


def test_it_writes_dates_one_way_with_the_epigrid_formats(settings):
    # Needs FORMAT_MODULE_PATH = ["epigrid.formats"] in settings (tables' date columns use these).
    settings.FORMAT_MODULE_PATH = ["epigrid.formats"]
    formats.reset_format_cache()
    try:
        day = datetime.date(2026, 12, 2)
        for language in ("zh-hans", "en"):
            with translation.override(language):
                assert formats.date_format(day) == "2026-12-02"
                assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026-12-02"
                assert "%Y-%m-%d" in formats.get_format("DATE_INPUT_FORMATS")
    finally:
        formats.reset_format_cache()
