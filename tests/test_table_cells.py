"""The table template's cells ({% table_cells row %}, core/templatetags/lists.py): the same <td>s
the template wrote cell by cell before (attributes, data-label for the phone cards, card-title,
localisation, escaping), each column's label and static attributes worked out once per table,
and callable td attributes still computed for every row."""

import datetime
import re
from decimal import Decimal

import django_tables2 as tables
import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django_tables2.columns.base import BoundColumn

from epigrid.control import services
from epigrid.core.templatetags import lists
from tests.scoping import make_person

# What the table template wrote for the body before the tag, cell by cell.
CELL_BY_CELL = Template(
    "{% load l10n %}<tbody>{% for row in table.paginated_rows %}<tr>"
    "{% for column, cell in row.items %}"
    '<td {{ column.attrs.td.as_html }} data-label="{{ column.header|striptags }}">'
    "{% if column.localize == None %}{{ cell }}{% else %}{% if column.localize %}{{ cell|localize }}"
    "{% else %}{{ cell|unlocalize }}{% endif %}{% endif %}</td>"
    "{% endfor %}</tr>{% endfor %}</tbody>"
)

PERSON_LABELS = ["姓名", "证件号码", "性别", "出生年份", "电话", "人员类型", "网格", "户", "重点关爱标签"]
KEY_PERSON_LABELS = [
    "人员",
    "证件号码",
    "人员类别",
    "来源",
    "状态",
    "责任区域",
    "当前措施",
    "计划结束日期",
    "发现日期",
]
AUDIT_LABELS = [
    "时间",
    "用户名",
    "来源",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "变更内容",
    "理由",
    "请求编号",
]
BOLD_NAME = "<b>x</b>"
ESCAPED_BOLD_NAME = "&lt;b&gt;x&lt;/b&gt;"


def body_rows(html):
    """[[(td attributes, content)]] of the table body, whatever the whitespace between cells."""
    tbody = html[html.index("<tbody") : html.index("</tbody>")]
    return [
        re.findall(r"<td ([^>]*)>(.*?)</td>", tr, re.S)
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S)
    ]


def labels_of(row):
    return [re.search(r'data-label="([^"]*)"', attrs).group(1) for attrs, _content in row]


def cell_by_cell(table):
    with translation.override(settings.LANGUAGE_CODE):
        return body_rows(CELL_BY_CELL.render(Context({"table": table})))


def list_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response


def render(table):
    return table.as_html(RequestFactory().get("/"))


# -- the three heavy lists ------------------------------------------------------------------------


def test_the_person_list_cells_are_those_written_cell_by_cell(cast):
    make_person(household=cast.household_a, name=BOLD_NAME)
    make_person(household=cast.household_a, name="张三")
    response = list_page(cast.client_for(cast.grid_worker), "/people/")
    rows = body_rows(response.content.decode())
    assert len(rows) == 2
    assert all(labels_of(row) == PERSON_LABELS for row in rows)
    assert rows == cell_by_cell(response.context["table"])
    html = response.content.decode()
    assert ESCAPED_BOLD_NAME in html and BOLD_NAME not in html
    name_cells = [content for row in rows for attrs, content in row[:1]]
    assert any(f">{ESCAPED_BOLD_NAME}</a>" in cell for cell in name_cells)


def test_the_key_person_list_cells_are_those_written_cell_by_cell(cast):
    for name in (BOLD_NAME, "密接甲"):
        person = make_person(household=cast.household_a, name=name)
        services.register_key_person(
            person,
            "close_contact",
            cast.grid_a,
            last_exposure=timezone.localdate() - datetime.timedelta(days=2),
        )
    response = list_page(cast.client_for(cast.grid_worker), "/control/")
    rows = body_rows(response.content.decode())
    assert len(rows) == 2
    assert all(labels_of(row) == KEY_PERSON_LABELS for row in rows)
    assert all(row[1][0] == 'class="masked" data-label="证件号码"' for row in rows)
    assert rows == cell_by_cell(response.context["table"])
    assert ESCAPED_BOLD_NAME in response.content.decode() and BOLD_NAME not in response.content.decode()


def test_the_audit_log_cells_are_those_written_cell_by_cell(cast):
    make_person(household=cast.household_a, name=BOLD_NAME)
    response = list_page(cast.client_for(cast.auditor), "/audit/")
    rows = body_rows(response.content.decode())
    assert rows
    assert all(labels_of(row) == AUDIT_LABELS for row in rows)
    assert rows == cell_by_cell(response.context["table"])
    html = response.content.decode()
    assert ESCAPED_BOLD_NAME in html and BOLD_NAME not in html


def test_the_area_list_keeps_the_card_title_on_the_name(cast):
    response = list_page(cast.client_for(cast.commander), "/areas/list/")
    rows = body_rows(response.content.decode())
    assert rows
    for row in rows:
        titles = [attrs for attrs, _content in row if "card-title" in attrs]
        assert titles == ['class="card-title" data-label="名称"']
    assert rows == cell_by_cell(response.context["table"])


# -- tables of our own ----------------------------------------------------------------------------


class Callables(tables.Table):
    name = tables.Column(
        attrs={
            "td": {
                "class": "name",
                "data-length": lambda value: len(value),
                "data-id": lambda record: record["id"],
            }
        }
    )
    kind = tables.Column(attrs={"td": {"class": lambda record: f"kind-{record['kind']}"}})
    plain = tables.Column(attrs={"td": {"class": "plain"}})


DATA = [
    {"id": 1, "name": "甲", "kind": "a", "plain": "p"},
    {"id": 2, "name": "乙丙", "kind": "b", "plain": "q"},
    {"id": 3, "name": "<i>丁</i>", "kind": "c", "plain": "r"},
]


def test_callable_td_attributes_are_computed_for_every_row(db):
    table = Callables(DATA)
    rows = body_rows(render(table))
    assert [row[0][0] for row in rows] == [
        'class="name" data-length="1" data-id="1" data-label="Name"',
        'class="name" data-length="2" data-id="2" data-label="Name"',
        'class="name" data-length="8" data-id="3" data-label="Name"',
    ]
    assert [row[1][0] for row in rows] == [f'class="kind-{k}" data-label="Kind"' for k in "abc"]
    assert [row[2][0] for row in rows] == ['class="plain" data-label="Plain"'] * 3
    assert rows[2][0][1] == "&lt;i&gt;丁&lt;/i&gt;"
    assert rows == cell_by_cell(Callables(DATA))


def test_callable_cell_attributes_from_the_table_are_computed_for_every_row(db):
    class TableWide(tables.Table):
        name = tables.Column()

        class Meta:
            attrs = {"cell": {"data-id": lambda record: record["id"]}}

    rows = body_rows(render(TableWide(DATA)))
    assert [row[0][0] for row in rows] == [f'data-id="{i}" data-label="Name"' for i in (1, 2, 3)]
    assert rows == cell_by_cell(TableWide(DATA))


class Localised(tables.Table):
    plain = tables.Column(verbose_name=mark_safe("<i>Plain</i> & safe"))
    on = tables.Column(verbose_name="On & <off>", localize=True)
    off = tables.Column(localize=False)
    day = tables.Column(localize=True)
    html = tables.Column()
    called = tables.Column(empty_values=())

    def render_html(self, value):
        return mark_safe(value)

    def render_called(self, record):
        return lambda: f"<{record['plain']}>"


LOCALISED = [
    {
        "plain": 1234567,
        "on": Decimal("1234567.5"),
        "off": 1234567,
        "day": datetime.date(2026, 3, 2),
        "html": "<b>ok</b>",
    },
    {"plain": 0.5, "on": 7654321, "off": Decimal("0.25"), "day": datetime.date(2026, 12, 31), "html": "<br>"},
]


@pytest.mark.parametrize("language", ["zh-hans", "en", "de"])
def test_localisation_labels_and_escaping_are_those_of_the_template(db, settings, language):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override(language):
        rows = body_rows(render(Localised(LOCALISED)))
        expected = body_rows(CELL_BY_CELL.render(Context({"table": Localised(LOCALISED)})))
    assert rows == expected
    # A safe header stays unescaped once its tags are stripped; any other is escaped.
    assert labels_of(rows[0]) == ["Plain & safe", "On &amp; ", "Off", "Day", "Html", "Called"]
    assert rows[0][2][1] == "1234567"  # unlocalize: no thousand separator
    if language == "de":
        assert rows[0][1][1] == "1.234.567,5"
    assert rows[0][4][1] == "<b>ok</b>"  # a safe value stays as it is
    assert rows[0][5][1] == "&lt;1234567&gt;"  # a callable cell is called, then escaped


def test_a_column_hidden_from_the_table_leaves_no_cell(db):
    table = Callables(DATA, exclude=("kind",))
    rows = body_rows(render(table))
    assert [labels_of(row) for row in rows] == [["Name", "Plain"]] * 3


# -- once per table -------------------------------------------------------------------------------


def _counting(monkeypatch, target, name):
    calls = []
    original = getattr(target, name)
    if isinstance(original, property):

        def getter(self):
            calls.append(self.name)
            return original.fget(self)

        monkeypatch.setattr(target, name, property(getter))
    else:

        def wrapper(*args, **kwargs):
            calls.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, wrapper)
    return calls


def test_the_plan_is_built_once_per_table_and_attributes_once_per_column(cast, monkeypatch):
    for n in range(4):
        make_person(household=cast.household_a, name=f"人员{n}")
    client = cast.client_for(cast.grid_worker)
    client.get("/people/")  # warm any per-process caches
    builds = _counting(monkeypatch, lists, "build_plan")
    attrs = _counting(monkeypatch, BoundColumn, "attrs")
    headers = _counting(monkeypatch, BoundColumn, "header")
    response = list_page(client, "/people/")
    assert len(body_rows(response.content.decode())) == 4
    assert len(builds) == 1
    columns = len(PERSON_LABELS)
    # Once for the header row's th, once for the plan: not once per cell.
    assert sorted(attrs) == sorted(2 * [c.name for c in response.context["table"].columns])
    assert len(attrs) == 2 * columns
    assert len(headers) <= 2 * columns


def test_a_table_rendered_twice_builds_its_plan_once(db, monkeypatch):
    builds = _counting(monkeypatch, lists, "build_plan")
    table = Callables(DATA)
    assert render(table) == render(table)
    assert len(builds) == 1
