"""The key persons of the demo district as plain data: for a resident, the category, the dates and
what happened since (hand-over, hospital, release), under the active protocol's rules and relative
to today. Pure: the rules come in as a dict, nothing touches the database.

Every date follows from the plan (`control.plans.plan`): an episode is a category and an anchor
date (last exposure, arrival, discharge or the day identified) some days before today, so where a
person stands today (not started, in centralized isolation, at home, released ...) is where that
plan puts them. The showcase (the grid worker's grid) is shaped: every category of the protocol
and every stage and work list appear there. The rest of the district is drawn at random.
"""

import datetime
from dataclasses import dataclass

from epigrid.control import plans

DAY = datetime.timedelta(days=1)
MAX_BACK = 21  # the oldest anchor the demo draws, in days before today
KEY_PERSON_SHARE = 0.005  # of residents
KEY_PERSON_CAP = 5000

# Where a person stands today (the ledger's stages). "handed_over": still under control, now in
# the receiving area's lists; "overdue": every step's end has passed and nobody released them.
STAGES = (
    "planned",
    "centralized",
    "at_home",
    "monitoring",
    "in_hospital",
    "released",
    "handed_over",
    "overdue",
)
STAGE_OF_MEASURE = {
    "centralized": "centralized",
    "home_isolation": "at_home",
    "home_monitoring": "at_home",
    "daily_monitoring": "monitoring",
}
# What the showcase grid must hold: every stage (released early too) and a row on every work list.
SITUATIONS = (
    "planned",
    "centralized",
    "at_home",
    "monitoring",
    "in_hospital",
    "released",
    "released_early",
    "handed_over",
    "overdue",
    "test_due",
    "test_missed",
    "due_release",
)
# The situations a showcase entry of a category left over may be in.
PLAIN_SITUATIONS = ("planned", "centralized", "at_home", "monitoring", "released")

# How often each category turns up in a district (close contacts and arrivals dominate).
CATEGORY_WEIGHTS = {
    "confirmed": 1,
    "suspected": 2,
    "fever": 5,
    "close_contact": 28,
    "secondary_contact": 14,
    "high_risk_arrival": 7,
    "medium_risk_arrival": 10,
    "low_risk_arrival": 10,
    "inbound": 3,
    "spacetime_companion": 10,
    "risk_occupation": 7,
    "other": 3,
}
# Who may be in a category at all (a child has no risk occupation).
CATEGORY_AGES = {"risk_occupation": (20, 59)}

HOSPITAL_SHARE = 0.03
HAND_OVER_SHARE = 0.03
EARLY_RELEASE_SHARE = 0.03
EARLY_RELEASE_OPEN_ENDED = 0.4  # a suspected case is mostly ruled out within days
RELEASED_WHEN_OVER = 0.9  # the rest is overdue for release


@dataclass
class Episode:
    """One key-person entry as the demo lives it. `steps` are plans.plan(rules, category,
    anchor); `released_on` with `early` means the step running that day was released early."""

    category: str
    situation: str  # what the showcase aimed at, or "natural"
    anchor: datetime.date
    identified_on: datetime.date
    steps: list
    hand_over: bool = False
    hospital_on: datetime.date | None = None
    released_on: datetime.date | None = None
    early: bool = False
    untested_today: bool = False  # the showcase keeps today's test open (test due)
    untested_yesterday: bool = False  # and yesterday's missing (overdue)

    def step_on(self, day):
        """The step whose days include `day`, or None."""
        return running_step(self.steps, day)


def running_step(steps, day):
    return next((s for s in steps if s.start <= day and (s.end is None or s.end >= day)), None)


def traced_categories(rules):
    """The categories the protocol manages, in the fixed order of control.plans.CATEGORIES."""
    return [c for c in plans.CATEGORIES if plans.is_traced(rules, c)]


def key_person_count(residents, showcase):
    return min(KEY_PERSON_CAP, max(showcase, round(residents * KEY_PERSON_SHARE)))


def fits(steps, today, situation):
    """Whether a plan (steps with their dates) puts a person in `situation` today."""
    step = running_step(steps, today)
    last_end = steps[-1].end
    yesterday = today - DAY
    if situation == "planned":
        return steps[0].start > today
    if situation in ("centralized", "at_home", "monitoring"):
        return step is not None and STAGE_OF_MEASURE[step.measure] == situation
    if situation in ("in_hospital", "handed_over"):
        return step is not None and step.start < today
    if situation == "released":
        return last_end is not None and today - 6 * DAY <= last_end < today
    if situation == "released_early":
        return step is steps[-1] and step.start < today and (step.end is None or step.end > today)
    if situation == "overdue":
        return last_end is not None and today - 3 * DAY <= last_end < today
    if situation == "test_due":
        return step is not None and today in step.test_dates
    if situation == "test_missed":
        return step is not None and yesterday in step.test_dates
    if situation == "due_release":
        return last_end == today
    raise ValueError(f"unknown situation {situation!r}")


class Planner:
    """Episodes under one protocol's `rules` as of `today`."""

    def __init__(self, rules, today):
        self.rules = rules
        self.today = today
        self.categories = traced_categories(rules)
        self._steps = {}

    def steps(self, category, back):
        """The plan of `category` anchored `back` days before today (the same list each time)."""
        key = (category, back)
        if key not in self._steps:
            self._steps[key] = plans.plan(self.rules, category, self.today - back * DAY)
        return self._steps[key]

    def backs(self, category, situation):
        """Days before today the anchor may lie for `situation` (empty: the category never is)."""
        return [b for b in range(MAX_BACK + 1) if fits(self.steps(category, b), self.today, situation)]

    def anchor_field(self, category):
        return plans.anchor_of(self.rules, category)

    def eligible(self, category, age):
        low, high = CATEGORY_AGES.get(category, (0, 200))
        return low <= age <= high

    # -- the showcase ------------------------------------------------------------------------

    def showcase(self, rng):
        """[(category, situation)]: every situation the protocol allows, and every category."""
        left = list(self.categories)
        chosen = []
        for situation in SITUATIONS:
            fitting = [c for c in left if self.backs(c, situation)]
            if situation == "handed_over":  # may leave the showcase grid: never a category's only entry
                fitting = []
            fitting = fitting or [c for c in self.categories if self.backs(c, situation)]
            if not fitting:
                continue  # e.g. nothing is "planned" when day one is the anchor date itself
            category = rng.choice(fitting)
            if category in left:
                left.remove(category)
            chosen.append((category, situation))
        for category in left:
            situations = [s for s in PLAIN_SITUATIONS if self.backs(category, s)]
            chosen.append((category, rng.choice(situations) if situations else "natural"))
        return chosen

    def shaped(self, rng, category, situation):
        """An episode of `category` in `situation` today, identified on its anchor date."""
        if situation == "natural":
            return self.natural(rng, category)
        back = rng.choice(self.backs(category, situation))
        anchor = self.today - back * DAY
        episode = Episode(category, situation, anchor, anchor, self.steps(category, back))
        step = episode.step_on(self.today)
        if situation == "in_hospital":
            episode.hospital_on = day_between(rng, max(step.start, anchor), self.today - DAY)
        elif situation == "released":
            episode.released_on = min(self.today, episode.steps[-1].end + rng.choice((0, 1)) * DAY)
        elif situation == "released_early":
            episode.released_on = day_between(rng, max(step.start, anchor) + DAY, self.today)
            episode.early = True
        elif situation == "handed_over":
            episode.hand_over = True
        episode.untested_today = situation == "test_due"
        episode.untested_yesterday = situation == "test_missed"
        return episode

    # -- the rest of the district ------------------------------------------------------------

    def category_for(self, rng, age):
        categories = [c for c in self.categories if self.eligible(c, age)]
        return rng.choices(categories, [CATEGORY_WEIGHTS.get(c, 1) for c in categories])[0]

    def natural(self, rng, category):
        """An episode of `category` at a random point of its plan, with the odd exception."""
        length = sum(s.end and (s.end - s.start).days + 1 or 7 for s in self.steps(category, 0))
        back = rng.randint(0, min(MAX_BACK, length + 4))
        anchor = self.today - back * DAY
        steps = self.steps(category, back)
        late = rng.choice((0, 1, 1, 2)) if self.anchor_field(category) != "identified" else 0
        identified = min(self.today, anchor + late * DAY)
        episode = Episode(category, "natural", anchor, identified, steps)
        step = episode.step_on(self.today)
        last_end = steps[-1].end
        if step is None and last_end is not None and last_end < self.today:
            if rng.random() < RELEASED_WHEN_OVER:
                episode.released_on = min(self.today, max(identified, last_end + rng.choice((0, 1, 1)) * DAY))
            return episode
        if step is None:
            return episode  # not started yet
        first = max(step.start, identified)
        draw = rng.random()
        early = EARLY_RELEASE_OPEN_ENDED if step.end is None else EARLY_RELEASE_SHARE
        if draw < HOSPITAL_SHARE and first < self.today:
            episode.hospital_on = day_between(rng, first, self.today - DAY)
        elif draw < HOSPITAL_SHARE + HAND_OVER_SHARE:
            episode.hand_over = True
        elif (
            draw < HOSPITAL_SHARE + HAND_OVER_SHARE + early
            and step is steps[-1]
            and first < self.today
            and (step.end is None or step.end > self.today)
        ):
            episode.released_on = day_between(rng, first + DAY, self.today)
            episode.early = True
        return episode


def day_between(rng, first, last):
    return first + rng.randint(0, max(0, (last - first).days)) * DAY


def stage_of(episode, today):
    """Where the episode stands today (one of STAGES)."""
    if episode.released_on is not None:
        return "released"
    if episode.hospital_on is not None:
        return "in_hospital"
    if episode.hand_over:
        return "handed_over"
    step = episode.step_on(today)
    if step is not None:
        return STAGE_OF_MEASURE[step.measure]
    return "planned" if episode.steps[0].start > today else "overdue"
