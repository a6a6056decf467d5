"""The demo district's key persons (with their steps, check-ins, tests and history) and risk zones.

Key persons are about 0.5% of the residents (at most 5,000), written in bulk like the residents:
each entry is what `control.services.register_key_person` makes on the day the person was
identified (the steps of `control.plans.plan` under the active protocol, in progress from their
first day; `created` that morning), followed by what the services would have done since: the daily
`advance` starting later steps, hospital transfers, early releases, releases once every step is
over, hand-overs (a request the receiving area accepted; one still waiting) and the follow-up of
past fevers. Those moves are the history (`audit.Transition` rows at the day and hour they
happened, with the note the service writes). Check-ins (twice a day, a few fevers) and tests run
from the day the person was known until today, this morning's check, today's fevers and a share of
today's and yesterday's tests still open, so the work lists (/control/today/) have rows.

Entries, steps and hand-overs get their audit `create` row each (audit.services.log_bulk_create,
written at build time); the check-ins and tests of an entry one row on the entry with how many
and their id ranges (as the residents of a grid, docs/decisions/0006-demo-audit.md: a row each
would be most of the build's audit rows and time).

The grid worker's grid is the showcase: every category of the active protocol, every stage and a
row on every work list are there (and so in the lists of the community, the street and the
district above it). Zones are drawn and the lifting applied for through the services themselves,
a few dozen at most.

Deterministic for a seed on a given day: one random.Random, fixed iteration orders, dates
relative to today. Times of today's events are never later than the build.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from epigrid.areas.models import Level
from epigrid.audit.models import Action, Transition
from epigrid.audit.services import build_change, log_bulk_create, write_changes
from epigrid.control import services, worklists
from epigrid.control.models import ABNORMAL, CheckIn, ControlMeasure, HandOver, KeyPerson, TestRecord, Zone
from epigrid.core import context
from epigrid.core.context import change_context
from epigrid.core.imports import bulk_insert
from epigrid.demo import data
from epigrid.demo.episodes import (
    DAY,
    STAGE_OF_MEASURE,
    STAGES,
    Planner,
    day_between,
    key_person_count,
    traced_categories,
)
from epigrid.demo.plan import age_on

# Local times of the daily temperature checks, by checks a day (each before its deadline in
# control.worklists.CHECK_DEADLINES).
CHECK_TIMES = {1: ((8, 40),), 2: ((8, 10), (16, 20)), 3: ((8, 0), (13, 10), (18, 30))}
CHECK_JITTER = 20  # minutes either side; the first check comes after the morning's registrations
MISSED_TODAY = 0.2  # of this morning's checks not recorded yet
MISSED_BEFORE = 0.03
FEVER_SHARE = 0.015
FEVER_SHARE_OF_FEVER_CASES = 0.2
TESTED_TODAY = 0.4
TESTED_YESTERDAY = 0.9
TESTED_BEFORE = 0.97
PENDING_TODAY = 0.75  # of today's tests taken, still awaiting the lab
ASSISTANCE_SHARE = 0.5  # of contacts, pushed by a 协查 request
ADVANCE_TIME = (0, 10)  # `epigrid control_advance` runs just after midnight
TEAM_FIELDS = (
    (Level.STREET, ("street_cadre",)),
    (Level.COMMUNITY, ("community_cadre", "doctor", "police")),
    (Level.GRID, ("grid_worker",)),
)

SOURCES = {
    "confirmed": "testing",
    "suspected": "testing",
    "fever": "self_report",
    "close_contact": "tracing",
    "secondary_contact": "tracing",
    "spacetime_companion": "assistance",
    "high_risk_arrival": "checkpoint",
    "medium_risk_arrival": "checkpoint",
    "low_risk_arrival": "self_report",
    "inbound": "checkpoint",
}
TRACED_CONTACTS = ("close_contact", "secondary_contact", "spacetime_companion")
ARRIVALS = ("high_risk_arrival", "medium_risk_arrival", "low_risk_arrival")
M = ControlMeasure.Status


class ControlError(Exception):
    pass


class ControlBuilder:
    """Picks the residents who become key persons while the builder writes them (`take`), then
    writes the ledger (`build`) and the zones (`build_zones`)."""

    def __init__(self, plan, now=None):
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.tz = timezone.get_current_timezone()  # Asia/Shanghai: no daylight saving to mind
        try:
            self.protocol = services.active_protocol()
        except ValidationError as exc:
            raise ControlError(" ".join(exc.messages)) from None
        self.rules = self.protocol.rules
        self.planner = Planner(self.rules, self.today)
        self.rng = random.Random(f"epigrid-demo:{plan.seed}:control")
        self.plan = plan
        self.showcase_plan = self.planner.showcase(self.rng)
        self._choose_residents(plan)
        self.showcase_persons = []  # every resident of the showcase grid, in order
        self.picked = {}  # ordinal in the district -> Person
        self.buildings = {}  # grid pk -> its first two buildings
        self.seen = 0
        self.names = {}  # area code -> {team field: name}
        self.listed = set()

    # -- choosing residents (ordinals in the plan's order; no database) -------------------

    def _choose_residents(self, plan):
        quotas = [g.quota for g in plan.grids_list]
        self.showcase_size = quotas[0] if quotas else 0
        total = key_person_count(plan.residents, len(self.showcase_plan))
        self.hand_over_ordinal = None
        if len(quotas) > 1 and quotas[1] > 0:  # someone from the next grid moves into the showcase
            self.hand_over_ordinal = quotas[0] + self.rng.randrange(quotas[1])
        others = range(self.showcase_size, plan.residents)
        wanted = max(0, total - len(self.showcase_plan))
        sample = self.rng.sample(others, min(len(others), wanted + 1))
        self.random_ordinals = sorted(n for n in sample if n != self.hand_over_ordinal)[:wanted]
        self.wanted = set(self.random_ordinals)
        if self.hand_over_ordinal is not None:
            self.wanted.add(self.hand_over_ordinal)

    def take(self, persons, buildings):
        """Called with each batch of residents (in the plan's order) once they are written."""
        for person in persons:
            if self.seen < self.showcase_size:
                self.showcase_persons.append(person)
            elif self.seen in self.wanted:
                self.picked[self.seen] = person
            self.seen += 1
        for building in buildings:
            kept = self.buildings.setdefault(building.area_id, [])
            if len(kept) < 2:
                kept.append(building)

    # -- the ledger -----------------------------------------------------------------------

    def build(self, areas, users, reason=""):
        """Write the key persons with everything that belongs to them; `reason` goes on the
        audit rows of their check-ins and tests."""
        self.users = users
        self.grids = [areas[g.code] for g in self.plan.grids_list]
        self.showcase_grid = self.grids[0] if self.grids else None
        cases = self._cases()
        entries = [self._entry(episode, person, area) for episode, person, area in cases]
        bulk_insert(KeyPerson, entries)
        for entry in entries:  # registered that morning, not now: the work lists count from it
            entry.created = entry.demo_registered
        KeyPerson.objects.bulk_update(entries, ["created"], batch_size=1000)
        measures = []
        for (episode, _person, _area), entry in zip(cases, entries, strict=True):
            entry.demo_steps = [self._measure(episode, entry, n, s) for n, s in enumerate(episode.steps, 1)]
            measures.extend(entry.demo_steps)
        bulk_insert(ControlMeasure, measures)
        self._pick_showcase_checks(cases, entries)
        checkins, tests, history = [], [], []
        for (episode, _person, _area), entry in zip(cases, entries, strict=True):
            recorder = self._recorder(entry)
            entry.demo_checkins, entry.demo_tests = [], []
            for step, measure in zip(episode.steps, entry.demo_steps, strict=True):
                entry.demo_checkins += self._checkins(episode, entry, step, measure, recorder)
                entry.demo_tests += self._tests(episode, step, measure, recorder)
            checkins += entry.demo_checkins
            tests += entry.demo_tests
            history.extend(self._history(episode, entry))
        bulk_insert(CheckIn, checkins)
        bulk_insert(TestRecord, tests)
        history += [self._handled(c) for c in checkins if c.follow_up == CheckIn.FollowUp.HANDLED]
        handovers = self._handovers(cases, entries)
        history += [t for h in handovers for t in self._handover_history(h)]
        bulk_insert(Transition, history)
        log_bulk_create(entries)
        log_bulk_create(measures)
        log_bulk_create(handovers)
        write_changes([self._logged_records(entry, reason) for entry in entries])
        self.listed = {entry.person_id for entry in entries}
        return entries

    @staticmethod
    def _logged_records(entry, reason):
        """One audit row per entry for its check-ins and tests, with their id ranges (a row each
        would be most of the build's audit rows and time; as for residents, decision 0006)."""
        after = {}
        for name, rows in (("checkins", entry.demo_checkins), ("tests", entry.demo_tests)):
            ids = [row.pk for row in rows]
            after[name] = {"added": len(ids), "ids": [min(ids), max(ids)] if ids else []}
        return build_change(entry, Action.UPDATE, None, after, reason=reason)

    def unlisted_showcase_persons(self):
        """Residents of the showcase grid not in the ledger (for the demo's tracing-list import)."""
        return [p for p in self.showcase_persons if p.pk not in self.listed]

    def _cases(self):
        """[(episode, person, responsible area)]: the showcase first, then the district."""
        cases = []
        if self.showcase_grid is None:
            return cases
        pool = list(self.showcase_persons)
        self.rng.shuffle(pool)
        for category, situation in self.showcase_plan:
            person = None
            if situation == "handed_over" and self.hand_over_ordinal is not None:
                person = self.picked.get(self.hand_over_ordinal)
            if person is None:
                person = next((p for p in pool if self.planner.eligible(category, self._age(p))), None)
                if person is None:
                    continue  # a tiny district: fewer residents than the showcase wants
                pool.remove(person)
            episode = self.planner.shaped(self.rng, category, situation)
            cases.append((episode, person, self._area_for(episode, person, showcase=True)))
        for ordinal in self.random_ordinals:
            person = self.picked[ordinal]
            episode = self.planner.natural(self.rng, self.planner.category_for(self.rng, self._age(person)))
            cases.append((episode, person, self._area_for(episode, person)))
        return cases

    def _age(self, person):
        return age_on(person.birth_date, self.today)

    def _area_for(self, episode, person, showcase=False):
        """The person's grid, or for a hand-over the receiving area."""
        if not episode.hand_over:
            return person.area
        if showcase and person.area is not self.showcase_grid:
            return self.showcase_grid
        others = [g for g in self.grids if g is not person.area]
        return self.rng.choice(others) if others else person.area.parent

    def _entry(self, episode, person, area):
        field = self.planner.anchor_field(episode.category)
        dates = {field: episode.anchor} if field in ("last_exposure", "arrival", "discharge") else {}
        origin, transport = self._travel(episode.category)
        notes = self.rng.choice(data.OCCUPATIONS) if episode.category == "risk_occupation" else ""
        note = ""
        if episode.hand_over:
            note = self.rng.choice(data.HAND_OVER_NOTES).format(area=self._place(area))
            # The note control.services.hand_over appends.
            notes = "\n".join(filter(None, [notes, gettext("Handed over: %(note)s") % {"note": note}]))
        entry = KeyPerson(
            person=person,
            area=area,
            category=episode.category,
            source=SOURCES.get(episode.category, "other"),
            status=KeyPerson.Status.RELEASED if episode.released_on else KeyPerson.Status.OPEN,
            protocol=self.protocol,
            identified_on=episode.identified_on,
            origin=origin,
            transport=transport,
            notes=notes,
            **dates,
            **self._team(area),
        )
        entry.demo_registered = self._at(episode.identified_on, 7, self.rng.randrange(40))
        entry.demo_hand_over = (person.area, note) if episode.hand_over else None
        if episode.category in TRACED_CONTACTS and self.rng.random() < ASSISTANCE_SHARE:
            received = entry.demo_registered - datetime.timedelta(minutes=self.rng.randrange(30, 90))
            entry.assistance_received_at = received
            entry.assistance_in_province = self.rng.random() < 0.7
            cleared = received + datetime.timedelta(minutes=self.rng.randrange(90, 14 * 60))  # that day
            if episode.identified_on < self.today:  # today's are still open, within their deadline
                entry.assistance_cleared_at = cleared
        return entry

    def _travel(self, category):
        if category in ARRIVALS:
            return self.rng.choice(data.DOMESTIC_ORIGINS)
        if category == "inbound":
            return self.rng.choice(data.FOREIGN_ORIGINS)
        return "", ""

    def _team(self, area):
        """五包一: the street and community cadres, doctor and police of the area, its grid worker."""
        chain, node = {}, area
        while node is not None:
            chain[node.level] = node
            node = node.parent
        team = {}
        for level, fields in TEAM_FIELDS:
            node = chain.get(level)
            if node is None:
                continue
            if node.code not in self.names:
                self.names[node.code] = {f: self._name() for f in fields}
            team.update(self.names[node.code])
        return team

    def _name(self):
        rng = self.rng
        given = rng.choice(data.GIVEN_MALE if rng.random() < 0.5 else data.GIVEN_FEMALE)
        return rng.choices(data.SURNAMES, data.SURNAME_WEIGHTS)[0] + given

    def _measure(self, episode, entry, sequence, step):
        measure = services.measure_for_step(entry, self.protocol, sequence, step)
        measure.status, measure.ended_on = self._status(episode, step)
        return measure

    def _status(self, episode, step):
        released = episode.released_on
        if released is not None:
            if episode.early and step is episode.step_on(released):
                return M.RELEASED_EARLY, released
            return M.COMPLETED, step.end  # as services.release completes them
        if episode.hospital_on is not None and step is episode.step_on(episode.hospital_on):
            return M.HOSPITALIZED, None
        return (M.ACTIVE if step.start <= self.today else M.PLANNED), None

    # -- check-ins and tests --------------------------------------------------------------

    def _pick_showcase_checks(self, cases, entries):
        """In the showcase grid, one person with a fever this morning and one not checked yet."""
        self.fever_today = self.unchecked_today = None
        for (episode, _person, area), entry in zip(cases, entries, strict=True):
            if episode.situation == "natural" or area is not self.showcase_grid:
                continue
            step = episode.step_on(self.today)
            if entry.status != "open" or step is None or not step.temps_per_day or episode.hospital_on:
                continue
            if self.fever_today is None:
                self.fever_today = entry
            elif self.unchecked_today is None:
                self.unchecked_today = entry

    def _recorder(self, entry):
        if entry.area is self.showcase_grid:
            return self.users.get("grid_worker")
        return None

    def _window(self, episode, step, measure):
        """(first, last, stop): the days a step was observed; on `stop` (to hospital, released
        early) only until the morning."""
        first = max(step.start, episode.identified_on)
        last = min(step.end or self.today, self.today)
        stop = None
        if measure.status == M.HOSPITALIZED:
            stop = episode.hospital_on
        elif measure.status == M.RELEASED_EARLY:
            stop = episode.released_on
        if stop is not None:
            last = min(last, stop)
        return first, last, stop

    def _checkins(self, episode, entry, step, measure, recorder):
        if not step.temps_per_day or step.start > self.today:
            return []
        if step.measure == "centralized":
            recorder = self.users.get("isolation_staff")  # the isolation site's staff
        times = CHECK_TIMES.get(step.temps_per_day) or [(7 + 4 * i, 0) for i in range(step.temps_per_day)]
        first, last, stop = self._window(episode, step, measure)
        fever_share = FEVER_SHARE_OF_FEVER_CASES if episode.category == "fever" else FEVER_SHARE
        rows = []
        day = first
        while day <= last:
            slots = times[:1] if day in (self.today, stop) else times
            for hour, minute in slots:
                forced_fever = day == self.today and entry is self.fever_today
                if day == self.today and not forced_fever:
                    if entry is self.unchecked_today or self.rng.random() < MISSED_TODAY:
                        continue
                elif day < self.today and self.rng.random() < MISSED_BEFORE:
                    continue
                fever = forced_fever or self.rng.random() < fever_share
                checkin = CheckIn(
                    measure=measure,
                    taken_at=self._at(day, hour, minute + self.rng.randint(-CHECK_JITTER, CHECK_JITTER)),
                    temperature=self._temperature(fever),
                    symptoms=self.rng.choice(data.SYMPTOMS) if fever else "",
                    recorded_by=recorder,
                )
                if fever and day < self.today:  # today's wait on the work lists for someone to act
                    self._follow_up(checkin, hospital=day == episode.hospital_on, user=recorder)
                rows.append(checkin)
            day += DAY
        return rows

    def _follow_up(self, checkin, hospital, user):
        """What was done about a fever (control.services.handle_abnormal), an hour or so later."""
        if hospital:
            outcome = CheckIn.Outcome.FEVER_CLINIC
        else:
            outcome = self.rng.choices(list(data.FOLLOW_UPS), [w for w, _n in data.FOLLOW_UPS.values()])[0]
        checkin.follow_up = CheckIn.FollowUp.HANDLED
        checkin.outcome = outcome
        checkin.follow_up_note = data.FOLLOW_UPS[outcome][1]
        checkin.handled_by = user
        checkin.handled_at = min(
            self.now, checkin.taken_at + datetime.timedelta(minutes=self.rng.randint(15, 90))
        )

    def _handled(self, checkin):
        label = CheckIn.Outcome(checkin.outcome).label
        note = f"{label}: {checkin.follow_up_note}"
        entry = checkin.measure.key_person
        return self._transition(
            entry, checkin, "pending", "handled", note, checkin.handled_at, checkin.handled_by
        )

    def _temperature(self, fever):
        if fever:
            return Decimal(f"{self.rng.uniform(37.3, 38.7):.1f}")
        return Decimal(f"{min(37.1, max(35.9, self.rng.gauss(36.5, 0.22))):.1f}")

    def _tests(self, episode, step, measure, recorder):
        if step.start > self.today:
            return []
        first, last, stop = self._window(episode, step, measure)
        yesterday = self.today - DAY
        rows = []
        for day in step.test_dates:
            if (
                day < first
                or day > last
                or (stop is not None and day == stop and measure.status == M.HOSPITALIZED)
            ):
                continue
            result = TestRecord.Result.NEGATIVE
            if day == self.today:
                taken = not episode.untested_today and self.rng.random() < TESTED_TODAY
                if self.rng.random() < PENDING_TODAY:
                    result = TestRecord.Result.PENDING
            elif day == yesterday:
                taken = not episode.untested_yesterday and self.rng.random() < TESTED_YESTERDAY
            else:
                taken = self.rng.random() < TESTED_BEFORE
            if taken:
                rows.append(TestRecord(measure=measure, day=day, result=result, recorded_by=recorder))
        return rows

    # -- hand-overs ---------------------------------------------------------------------------

    def _handovers(self, cases, entries):
        """The requests behind the hand-overs (services.hand_over into an area the sender does not
        hold: accepted by the receiving area), and one still waiting for the showcase grid (or,
        in a one-grid district, for its community)."""
        handovers = []
        for (episode, _person, _area), entry in zip(cases, entries, strict=True):
            if entry.demo_hand_over is None:
                continue
            from_area, note = entry.demo_hand_over
            day = day_between(self.rng, episode.identified_on, self.today)
            requested = self._at(day, 9, self.rng.randrange(120))
            handovers.append(self._handover(entry, from_area, entry.area, note, requested, accepted=True))
        waiting = self._waiting_handover(cases, entries)
        if waiting is not None:
            handovers.append(waiting)
        bulk_insert(HandOver, handovers)
        for handover in handovers:  # when it was asked, not now
            handover.requested_at = handover.demo_requested
        HandOver.objects.bulk_update(handovers, ["requested_at"], batch_size=1000)
        return handovers

    def _waiting_handover(self, cases, entries):
        """An open, running entry of another grid asked into the showcase grid; in a district
        too small for one, a showcase entry asked out (to the next grid, or the community)."""
        candidates = []
        for (episode, _person, _area), entry in zip(cases, entries, strict=True):
            running = entry.status == "open" and episode.step_on(self.today) is not None
            if running and not episode.hospital_on and not entry.demo_hand_over:
                candidates.append((episode, entry))
        outside = [entry for _episode, entry in candidates if entry.area is not self.showcase_grid]
        if outside:
            entry, target = outside[0], self.showcase_grid
        else:
            inside = [e for episode, e in candidates if episode.situation in ("at_home", "monitoring")]
            if not inside:
                return None
            others = [g for g in self.grids if g is not self.showcase_grid]
            entry, target = inside[0], others[0] if others else self.showcase_grid.parent
        note = self.rng.choice(data.HAND_OVER_NOTES).format(area=self._place(target))
        requested = self._at(self.today, 8, self.rng.randrange(60))
        return self._handover(entry, entry.area, target, note, requested, accepted=False)

    def _handover(self, entry, from_area, to_area, note, requested, accepted):
        handover = HandOver(
            key_person=entry,
            from_area=from_area,
            to_area=to_area,
            status=HandOver.Status.ACCEPTED if accepted else HandOver.Status.REQUESTED,
            note=note,
            answer=data.HAND_OVER_ANSWER if accepted else "",
            requested_by=self.users.get("grid_worker") if from_area is self.showcase_grid else None,
        )
        handover.demo_requested = requested
        return handover

    def _handover_history(self, handover):
        entry = handover.key_person
        receiver = self.users.get("grid_worker") if handover.to_area is self.showcase_grid else None
        when = handover.demo_requested
        rows = [
            self._transition(entry, handover, "", "requested", handover.note, when, handover.requested_by)
        ]
        if handover.status == HandOver.Status.ACCEPTED:
            accepted = min(self.now, when + datetime.timedelta(minutes=self.rng.randint(30, 180)))
            rows.append(
                self._transition(
                    entry, handover, "requested", "accepted", handover.answer, accepted, receiver
                )
            )
        return rows

    @staticmethod
    def _place(area):
        return f"{area.parent.name}{area.name}" if area.level == Level.GRID else area.name

    # -- history ----------------------------------------------------------------------------

    def _history(self, episode, entry):
        """The Transition rows the services would have written, at the time they ran."""
        actor = self._recorder(entry)
        rows = []
        if entry.assistance_cleared_at:
            rows.append(
                self._transition(
                    entry,
                    entry,
                    "open",
                    "open",
                    gettext("Assistance request cleared"),
                    entry.assistance_cleared_at,
                    actor,
                )
            )
        until = episode.released_on or self.today
        for measure in entry.demo_steps:
            if episode.identified_on < measure.start <= until:  # started by the daily advance
                when = self._at(measure.start, *ADVANCE_TIME)
                rows.append(
                    self._transition(
                        entry, measure, "planned", "active", gettext("Started on schedule"), when
                    )
                )
        if episode.hospital_on is not None:
            measure = next(m for m in entry.demo_steps if m.status == M.HOSPITALIZED)
            when = self._at(episode.hospital_on, 10, self.rng.randrange(60))
            note = self.rng.choice(data.HOSPITAL_NOTES)
            rows.append(self._transition(entry, measure, "active", "hospitalized", note, when, actor))
        if episode.released_on is not None:
            when = self._at(episode.released_on, 10, self.rng.randrange(50))
            for measure in entry.demo_steps:
                if measure.status == M.RELEASED_EARLY:
                    reason = data.EARLY_RELEASE_REASONS["open" if measure.planned_end is None else "step"]
                    rows.append(
                        self._transition(entry, measure, "active", "released_early", reason, when, actor)
                    )
            later = when + datetime.timedelta(minutes=3)
            for measure in entry.demo_steps:
                if measure.status == M.COMPLETED:
                    rows.append(self._transition(entry, measure, "active", "completed", "", later, actor))
            # An early release gives its reason on the step; the release itself says nothing more.
            note = "" if episode.early else self.rng.choice(data.RELEASE_NOTES)
            rows.append(self._transition(entry, entry, "open", "released", note, later, actor))
        return rows

    def _transition(self, entry, obj, source, target, note, when, user=None):
        """A row as audit.services.log_transition writes it, at `when` (filed under the entry's
        area, or the receiving area's for a hand-over request)."""
        return Transition(
            time=when,
            user=user,
            user_name=user.get_username() if user else "",
            request_id=context.current().request_id,
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_id=obj.pk,
            source=source,
            target=target,
            note=note,
            area_path=obj.to_area.path if isinstance(obj, HandOver) else entry.area.path,
        )

    def _at(self, day, hour, minute=0):
        """An aware local time on `day`, never later than the build."""
        moment = datetime.datetime.combine(day, datetime.time(hour), self.tz) + datetime.timedelta(
            minutes=minute
        )
        if moment > self.now:
            start = datetime.datetime.combine(day, datetime.time.min, self.tz)
            moment = max(start, self.now - datetime.timedelta(minutes=1))
        return moment

    # -- zones ------------------------------------------------------------------------------

    def build_zones(self, areas, users):
        """Every level of the protocol in the showcase grid and its community, one zone whose
        lifting the street has applied for (awaiting the district), one more zone a street."""
        grids = [areas[g.code] for g in self.plan.grids_list]
        showcase = grids[0] if grids else None
        buildings = self.buildings.get(showcase.pk, []) if showcase else []
        if not buildings:
            return []
        zones_rules = self.rules["zones"]
        levels = list(zones_rules["levels"])
        lifting_level = self._lifting_level(zones_rules)
        zones = []
        with change_context(user=users.get("district_commander"), source="command"):
            zones.append(self._draw(showcase, levels[0], 3, 1, building=buildings[0]))
            if lifting_level is not None:
                days = zones_rules["downgrade"][lifting_level]["case_free_days"]
                lifting = self._draw(showcase, lifting_level, days + 5, days + 2, building=buildings[-1])
                zones.append(lifting)
            for level in levels[1:]:
                if any(z.level == level for z in zones):
                    continue
                area = showcase.parent if level == levels[-1] else showcase
                zones.append(self._draw(area, level, 6, 2))
            zones.extend(self._district_zones(grids, levels))
        if lifting_level is not None:
            street_user = users.get("street_officer")
            with change_context(user=street_user, source="command"):
                note = data.LIFTING_NOTE.format(days=lifting.case_free_days(self.today))
                services.apply_lifting(lifting, street_user, note=note, today=self.today)
        return zones

    @staticmethod
    def _lifting_level(zones_rules):
        """The lowest level the protocol downgrades by counting case-free days."""
        counted = [
            level
            for level in zones_rules["levels"]
            if (zones_rules["downgrade"].get(level) or {}).get("case_free_days")
            and zones_rules["downgrade"][level].get("to")
        ]
        return counted[-1] if counted else None

    def _draw(self, area, level, started_back, case_back, building=None):
        return services.draw_zone(
            area,
            level,
            self.today - started_back * DAY,
            building=building,
            rules_text=data.ZONE_RULES.get(level, ""),
            last_case_on=self.today - case_back * DAY,
        )

    def _district_zones(self, grids, levels):
        """One zone on a building in every other street (a few dozen for a million residents)."""
        by_street = {}
        for grid in grids[1:]:
            if self.buildings.get(grid.pk):
                by_street.setdefault(grid.parent.parent.code, []).append(grid)
        zones = []
        for code in sorted(by_street):
            if code == grids[0].parent.parent.code:
                continue
            grid = self.rng.choice(by_street[code])
            started = self.rng.randint(2, 12)
            level = self.rng.choice(levels[:-1] or levels)
            building = self.rng.choice(self.buildings[grid.pk])
            zones.append(self._draw(grid, level, started, self.rng.randint(0, started), building=building))
        return zones


# -- what the database holds (the demo's JSON and text; also for --if-empty) ----------------


def control_counts(now=None):
    """Counts of the control module: key persons by category and stage, steps, check-ins (fevers),
    tests, today's work lists, history rows and zones."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    try:
        rules = services.active_protocol().rules
        categories = traced_categories(rules)
        levels = list(rules["zones"]["levels"])
    except ValidationError:
        categories, levels = [], []
    by_category = dict(KeyPerson.objects.values_list("category").order_by().annotate(n=Count("pk")))
    stages = dict.fromkeys(STAGES, 0)
    for stage in entry_stages(today).values():
        stages[stage] += 1
    running = ControlMeasure.objects.filter(status__in=worklists.RUNNING, key_person__status="open")
    when = worklists.conditions(running.db, now)
    lists = running.order_by().aggregate(
        **{name: Count("key_person", distinct=True, filter=when[name]) for name in worklists.LISTS}
    )
    handovers = dict(HandOver.objects.values_list("status").order_by().annotate(n=Count("pk")))
    zone_levels = dict(Zone.objects.values_list("level").order_by().annotate(n=Count("pk")))
    zone_statuses = dict(Zone.objects.values_list("status").order_by().annotate(n=Count("pk")))
    return {
        "key_persons": KeyPerson.objects.count(),
        "categories": {
            c: by_category.get(c, 0) for c in [*categories, *sorted(set(by_category) - set(categories))]
        },
        "stages": stages,
        "measures": ControlMeasure.objects.count(),
        "checkins": CheckIn.objects.count(),
        "fevers": CheckIn.objects.filter(temperature__gte=Decimal("37.3")).count(),
        "fevers_today": CheckIn.objects.filter(
            temperature__gte=Decimal("37.3"), taken_at__range=worklists.day_range(today)
        ).count(),
        "tests": TestRecord.objects.count(),
        "abnormal_to_handle": CheckIn.objects.filter(ABNORMAL, follow_up=CheckIn.FollowUp.PENDING).count(),
        "work_lists": lists,
        "handovers": {status: handovers.get(status, 0) for status in HandOver.Status.values},
        "history_rows": Transition.objects.count(),
        "zones": Zone.objects.count(),
        "zone_levels": {
            lv: zone_levels.get(lv, 0) for lv in [*levels, *sorted(set(zone_levels) - set(levels))]
        },
        "zones_lifting": zone_statuses.get(Zone.Status.APPLIED, 0)
        + zone_statuses.get(Zone.Status.EVALUATED, 0),
    }


def entry_stages(today):
    """{entry pk: stage} for every key person, by the rules of episodes.stage_of read back from
    the rows: released, a step in hospital, handed over (responsible area other than the
    person's), else where the current step stands."""
    steps = {}
    for row in ControlMeasure.objects.order_by("key_person_id", "sequence").values_list(
        "key_person_id", "sequence", "kind", "status", "start", "planned_end"
    ):
        steps.setdefault(row[0], []).append(row[1:])
    stages = {}
    for pk, status, area, home in KeyPerson.objects.values_list("pk", "status", "area_id", "person__area_id"):
        own = steps.get(pk, [])
        open_steps = [s for s in own if s[2] in ControlMeasure.OPEN]
        if status != KeyPerson.Status.OPEN:
            stages[pk] = "released"
        elif any(s[2] == M.HOSPITALIZED for s in own):
            stages[pk] = "in_hospital"
        elif area != home:
            stages[pk] = "handed_over"
        else:
            started = [s for s in open_steps if s[3] <= today]
            current = started[-1] if started else (open_steps[0] if open_steps else None)
            if current is None or current[3] > today:
                stages[pk] = "planned"
            elif current[4] is not None and current[4] < today:
                stages[pk] = "overdue"
            else:
                stages[pk] = STAGE_OF_MEASURE[current[1]]
    return stages
