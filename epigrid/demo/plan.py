"""The demo district as plain data, without the database: same (residents, seed), same plan.

`DistrictPlan(residents, seed)` lays out the area tree up front (small) and then streams grids
one by one (`grids()`): each grid's buildings, households and persons, drawn from one seeded
random.Random so a plan never depends on batch sizes or on the database.
"""

import bisect
import datetime
import itertools
import math
import random
import zlib
from dataclasses import dataclass, field

from epigrid.core.identity import make_resident_id
from epigrid.demo import data

# Average persons per household the layout assumes when sizing grids (measured on plans).
MEAN_HOUSEHOLD = 2.75
HOUSEHOLDS_PER_GRID = 300  # a grid worker looks after a few hundred households
GRIDS_PER_STREET = 45
VACANT_ROOMS = 0.08

# Share of households by residence type (a few from abroad).
RESIDENCE_WEIGHTS = (("registered", 0.86), ("migrant", 0.135), ("foreign", 0.005))

# Household kinds of registered residents: (kind, weight).
REGISTERED_KINDS = (
    ("alone_elderly", 0.085),
    ("young_couple", 0.10),
    ("empty_nest", 0.17),
    ("nuclear", 0.40),
    ("three_generations", 0.17),
    ("adult_with_parent", 0.075),
)
MIGRANT_KINDS = (("nuclear", 0.55), ("young_couple", 0.15), ("shared", 0.30))


@dataclass(slots=True)
class PlannedArea:
    code: str
    name: str
    level: str  # city, district, street, community, grid
    parent: "PlannedArea | None" = None
    quota: int = 0  # persons (grids only)


@dataclass(slots=True)
class PlannedPerson:
    name: str
    doc_type: str
    doc_number: str
    sex: str
    birth_date: datetime.date
    phone: str
    residence_type: str
    tags: tuple = ()


@dataclass(slots=True)
class PlannedHousehold:
    unit: str
    room: str
    members: list  # members[0] is the contact person


@dataclass(slots=True)
class PlannedBuilding:
    name: str
    households: list = field(default_factory=list)


def chinese_number(n):
    """1-99 in Chinese numerals (第十二网格)."""
    digits = data.CHINESE_NUMERALS
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def split_total(total, weights):
    """Integers proportional to weights that add up to total (largest remainder)."""
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def age_on(birth, day=data.REFERENCE_DATE):
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class DistrictPlan:
    def __init__(self, residents, seed):
        if residents < 0:
            raise ValueError("residents must not be negative")
        self.residents = residents
        self.seed = seed
        self.city = PlannedArea(data.CITY[0], data.CITY[1], "city")
        self.district = PlannedArea(data.DISTRICT[0], data.DISTRICT[1], "district", self.city)
        self.streets, self.communities, self.grids_list = [], [], []
        self._layout(random.Random(f"epigrid-demo:{seed}:layout"))

    # -- the area tree --------------------------------------------------------------------

    def areas(self):
        return [self.city, self.district, *self.streets, *self.communities, *self.grids_list]

    def _layout(self, rng):
        grid_count = max(1, round(self.residents / (MEAN_HOUSEHOLD * HOUSEHOLDS_PER_GRID)))
        street_count = max(min(3, grid_count), round(grid_count / GRIDS_PER_STREET))
        grids_per_street = split_total(grid_count, [rng.uniform(0.7, 1.3) for _ in range(street_count)])
        community_names = [s + v + "社区" for s in data.COMMUNITY_STEMS for v in data.COMMUNITY_VARIANTS]
        rng.shuffle(community_names)
        names = iter(community_names)
        for s, n_grids in enumerate(grids_per_street, start=1):
            name = data.STREET_NAMES[s - 1] if s <= len(data.STREET_NAMES) else f"新区第{s}街道"
            street = PlannedArea(f"{self.district.code}{s:03d}000", name, "street", self.district)
            self.streets.append(street)
            sizes = []
            while sum(sizes) < n_grids:
                sizes.append(min(rng.randint(3, 6), n_grids - sum(sizes)))
            for c, size in enumerate(sizes, start=1):
                cname = next(names, None) or f"{street.name[:-2]}第{c}社区"
                community = PlannedArea(f"{street.code[:9]}{c:03d}", cname, "community", street)
                self.communities.append(community)
                for g in range(1, size + 1):
                    grid_name = f"第{chinese_number(g)}网格"
                    self.grids_list.append(
                        PlannedArea(f"{community.code}{g:03d}", grid_name, "grid", community)
                    )
        quotas = split_total(self.residents, [rng.uniform(0.85, 1.15) for _ in self.grids_list])
        for grid, quota in zip(self.grids_list, quotas, strict=True):
            grid.quota = quota

    # -- residents ------------------------------------------------------------------------

    def grids(self):
        """(grid, [PlannedBuilding]) for every grid, in order; persons add up to `residents`."""
        people = _PeopleMaker(random.Random(f"epigrid-demo:{self.seed}:people"))
        for grid in self.grids_list:
            yield grid, people.fill_grid(grid.quota)


def _cumulative(weights):
    return list(itertools.accumulate(weights))


class _PeopleMaker:
    def __init__(self, rng):
        self.rng = rng
        self.id_counters = {}
        self.phones = set()
        self.passports = set()
        self.surname_cum = _cumulative(data.SURNAME_WEIGHTS)
        self.residence_cum = _cumulative([w for _k, w in RESIDENCE_WEIGHTS])
        self.registered_cum = _cumulative([w for _k, w in REGISTERED_KINDS])
        self.migrant_cum = _cumulative([w for _k, w in MIGRANT_KINDS])

    def pick(self, items, cum):
        return items[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    # -- layout of one grid --

    def fill_grid(self, quota):
        rng = self.rng
        buildings, remaining, number = [], quota, 0
        while remaining > 0:
            number += 1
            building = PlannedBuilding(f"{number}号楼")
            buildings.append(building)
            style = rng.random()
            if style < 0.6:  # walk-up
                units, floors = rng.randint(2, 4), rng.randint(5, 7)
            elif style < 0.85:
                units, floors = 2, rng.randint(11, 18)
            else:  # high-rise
                units, floors = rng.randint(1, 2), rng.randint(24, 33)
            for unit, floor, door in itertools.product(range(1, units + 1), range(1, floors + 1), (1, 2)):
                if remaining <= 0:
                    break
                if rng.random() < VACANT_ROOMS:
                    continue
                members = self.household(remaining)
                remaining -= len(members)
                building.households.append(PlannedHousehold(str(unit), f"{floor}{door:02d}", members))
        return buildings

    # -- one household --

    def household(self, limit):
        rng = self.rng
        residence = self.pick(RESIDENCE_WEIGHTS, self.residence_cum)[0]
        if residence == "registered":
            kind = self.pick(REGISTERED_KINDS, self.registered_cum)[0]
        elif residence == "migrant":
            kind = self.pick(MIGRANT_KINDS, self.migrant_cum)[0]
        else:
            kind = rng.choice(("nuclear", "young_couple", "shared"))
        specs = self.family(kind)[:limit]  # (age, sex, same family name as the head?)
        origin = self.origin_region() if residence == "migrant" else None
        family_name = self.surname()
        members = []
        for i, (age, sex, kin) in enumerate(specs):
            birth = data.REFERENCE_DATE - datetime.timedelta(days=int((age + rng.random()) * 365.2425))
            birth = min(birth, data.REFERENCE_DATE)
            if residence == "foreign":
                name = self.foreign_name(sex)
                doc_type, doc_number = "400", self.passport()
            else:
                name = (family_name if kin else self.surname()) + self.given_name(sex)
                doc_type = "111"
                region = origin or self.registered_region(age)
                doc_number, birth = self.resident_id(region, birth, sex)
            age = age_on(birth)
            phone = self.phone(age, contact=(i == 0))
            members.append(PlannedPerson(name, doc_type, doc_number, sex, birth, phone, residence))
        alone = len(members) == 1
        for person in members:
            person.tags = self.tags(person, alone)
        return members

    def family(self, kind):
        """[(age, sex, kin)] with the contact person first."""
        rng = self.rng
        head_sex = "M" if rng.random() < 0.62 else "F"
        other = "F" if head_sex == "M" else "M"

        def spouse_age(age):
            return max(20, age + (-2 if head_sex == "M" else 2) + rng.randint(-3, 3))

        def children(parent_age, n):
            # born when the parent was 22-40; grown-up children up to 26 still live at home
            youngest, oldest = max(0, parent_age - 40), min(parent_age - 22, 26)
            if oldest < youngest:
                return []
            return [(rng.randint(youngest, oldest), rng.choice("MF"), True) for _ in range(n)]

        if kind == "alone_elderly":
            return [(int(rng.triangular(65, 96, 72)), "F" if rng.random() < 0.65 else "M", True)]
        if kind == "young_couple":
            age = rng.randint(22, 36)
            return [(age, head_sex, True), (spouse_age(age), other, False)]
        if kind == "empty_nest":
            age = int(rng.triangular(52, 90, 62))
            return [(age, head_sex, True), (spouse_age(age), other, False)]
        if kind == "nuclear":
            age = rng.randint(27, 58)
            n_children = 1 if rng.random() < 0.7 else 2
            return [(age, head_sex, True), (spouse_age(age), other, False), *children(age, n_children)]
        if kind == "three_generations":
            child_age = rng.randint(29, 56)
            elder_age = min(95, child_age + rng.randint(24, 34))
            members = [(child_age, head_sex, True), (elder_age, rng.choice("MF"), True)]
            if rng.random() < 0.55:
                members.append((spouse_age(child_age), other, False))
            members += children(child_age, 1)
            return members
        if kind == "adult_with_parent":
            age = rng.randint(28, 60)
            return [(age, head_sex, True), (min(98, age + rng.randint(22, 34)), rng.choice("MF"), True)]
        # shared flat: 2-4 unrelated working-age adults
        return [(rng.randint(18, 45), rng.choice("MF"), False) for _ in range(rng.randint(2, 4))]

    # -- identity --

    def surname(self):
        return self.pick(data.SURNAMES, self.surname_cum)

    def given_name(self, sex):
        rng = self.rng
        if sex == "M":
            names, singles = data.GIVEN_MALE, data.GIVEN_MALE_SINGLE
        else:
            names, singles = data.GIVEN_FEMALE, data.GIVEN_FEMALE_SINGLE
        if rng.random() < 0.4:
            return rng.choice(singles) + rng.choice(singles)
        return rng.choice(names)

    def foreign_name(self, sex):
        first = data.FOREIGN_FIRST_MALE if sex == "M" else data.FOREIGN_FIRST_FEMALE
        return f"{self.rng.choice(first)} {self.rng.choice(data.FOREIGN_LAST)}"

    def registered_region(self, age):
        r = self.rng.random()
        if age < 16:
            return data.HOME_REGION if r < 0.95 else self.rng.choice(data.LANZHOU_REGIONS)
        if r < 0.80:
            return data.HOME_REGION
        if r < 0.90:
            return self.rng.choice(data.LANZHOU_REGIONS)
        if r < 0.97:
            return self.rng.choice(data.GANSU_REGIONS)
        if r < 0.98:
            return self.rng.choice(data.ABOLISHED_REGIONS)
        return self.rng.choice(data.OTHER_PROVINCE_REGIONS)

    def origin_region(self):
        if self.rng.random() < 0.3:
            return self.rng.choice(data.GANSU_REGIONS)
        return self.rng.choice(data.OTHER_PROVINCE_REGIONS)

    def resident_id(self, region, birth, sex):
        """A unique valid ID: sequence numbers per (region, birth date, sex) never repeat; a full
        day (500 of one sex) moves the birth date one day earlier."""
        parity = 1 if sex == "M" else 0
        while True:
            key = f"{region}{birth:%Y%m%d}{parity}"
            used = self.id_counters.get(key, 0)
            if used < 500:
                break
            birth -= datetime.timedelta(days=1)
        self.id_counters[key] = used + 1
        # 173 is prime to 500: the first 500 uses of a key give 500 different sequences.
        slot = (used * 173 + zlib.crc32(key.encode())) % 500
        return make_resident_id(region, birth, slot * 2 + parity), birth

    def passport(self):
        while True:
            number = f"{self.rng.choice(data.PASSPORT_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if number not in self.passports:
                self.passports.add(number)
                return number

    def phone(self, age, contact):
        rng = self.rng
        if not contact:
            share = 0.97 if 16 <= age < 70 else 0.8 if 70 <= age < 80 else 0.5 if age >= 80 else 0.08
            if rng.random() >= share:
                return ""
        while True:
            number = f"{rng.choice(data.PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return "+86" + number

    # -- vulnerable groups, consistent with age and sex --

    def tags(self, person, alone):
        rng = self.rng
        age = age_on(person.birth_date)
        tags = []
        if alone and age >= 60:
            tags.append("elderly_alone")
        if age < 14:
            tags.append("child")
        if person.sex == "F" and 20 <= age <= 42 and rng.random() < 0.035:
            tags.append("pregnant")
        disabled = 0.006 if age < 40 else 0.015 if age < 60 else 0.04
        if rng.random() < disabled:
            tags.append("disabled")
        chronic = 0.005 if age < 30 else 0.035 if age < 50 else 0.09 if age < 65 else 0.18
        if rng.random() < chronic:
            tags.append("chronic")
        return tuple(tags)
