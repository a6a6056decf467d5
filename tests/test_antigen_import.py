"""The "antigen-kits" ledger: households by address, bad rows with the sheet's row numbers and
clear messages, nothing half-written, the same file twice changes nothing."""

import pytest
from django.utils import translation

from epigrid.antigen.imports import KitResource
from epigrid.antigen.models import KitDistribution
from epigrid.areas.models import Household
from epigrid.audit.models import ObjectChange
from epigrid.core.imports import run_import
from tests.test_antigen_services import make_round
from tests.test_testing_sweeps import xlsx

HEADER = ["网格", "楼栋", "单元", "房号", "发放数量", "备注"]


@pytest.fixture
def rnd(cast):
    return make_round(cast)


def run(user, area, fileobj, dry_run=False):
    with translation.override("en"):
        return run_import(KitResource(user, area), fileobj, "发放.xlsx", dry_run=dry_run)


def test_it_imports_kits_by_address_and_a_second_run_changes_nothing(cast, rnd):
    Household.objects.create(building=cast.building_a, unit="1", room="102")
    rows = [
        ["", "一号楼", "1单元", "101", 3, ""],
        ["第一网格", "1号楼", "1", "102", "2", "补发"],
        ["", "9号楼", "2", "202", 1, ""],
    ]
    first = run(cast.community_officer, cast.community, xlsx(HEADER, rows))
    assert (first.created, first.rejected, first.errors) == (3, 0, [])
    assert dict(KitDistribution.objects.values_list("household__room", "kits")) == {
        "101": 3,
        "102": 2,
        "202": 1,
    }
    logged = ObjectChange.objects.filter(content_type__model="kitdistribution").count()
    assert logged == 3
    second = run(cast.community_officer, cast.community, xlsx(HEADER, rows))
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert ObjectChange.objects.filter(content_type__model="kitdistribution").count() == logged


def test_bad_rows_are_reported_with_their_row_numbers_and_never_written(cast, rnd):
    rows = [
        ["", "1号楼", "1", "101", 3, ""],  # row 3: fine
        ["", "1号楼", "1", "999", 1, ""],  # row 4: no such household
        ["", "1号楼", "1", "101", "two", ""],  # row 5: not a number
        ["", "", "1", "101", 1, ""],  # row 6: no building
        ["", "9号楼", "2", "202", 99, ""],  # row 7: too many
        ["第九网格", "9号楼", "2", "202", 1, ""],  # row 8: unknown grid
    ]
    result = run(cast.community_officer, cast.community, xlsx(HEADER, rows))
    assert (result.created, result.rejected) == (1, 5)
    by_row = {e["row"]: e for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8]
    assert "No household 1号楼 1 999 is registered" in by_row[4]["message"] and by_row[4]["column"] == "房号"
    assert by_row[5]["message"] == "“two” is not a number of kits from 0 to 50."
    assert by_row[6]["column"] == "楼栋"
    assert by_row[7]["column"] == "发放数量"
    assert "No grid “第九网格”" in by_row[8]["message"]
    assert list(KitDistribution.objects.values_list("household__room", "kits")) == [("101", 3)]


def test_a_household_twice_with_other_counts_is_refused(cast, rnd):
    rows = [["", "1号楼", "1", "101", 3, ""], ["", "1号楼", "1", "101", 4, ""]]
    result = run(cast.community_officer, cast.community, xlsx(HEADER, rows))
    assert (result.created, result.rejected) == (1, 1)
    assert "Same household as row 3" in result.errors[0]["message"]


def test_a_grid_worker_imports_only_their_own_doors(cast, rnd):
    rows = [["", "9号楼", "2", "202", 1, ""]]
    result = run(cast.grid_worker, cast.community, xlsx(HEADER, rows))
    assert result.rejected == 1 and not KitDistribution.objects.exists()


def test_a_dry_run_writes_nothing(cast, rnd):
    result = run(
        cast.community_officer, cast.community, xlsx(HEADER, [["", "1号楼", "1", "101", 3, ""]]), dry_run=True
    )
    assert result.created == 1 and not KitDistribution.objects.exists()


def test_without_a_round_column_two_running_rounds_ask_for_it(cast, rnd):
    make_round(cast, name="第二轮抗原")
    result = run(cast.community_officer, cast.community, xlsx(HEADER, [["", "1号楼", "1", "101", 3, ""]]))
    assert result.rejected == 1 and result.errors[0]["column"] == "轮次"
