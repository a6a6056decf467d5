"""Transmission chains 传播链 (decision 0025): the graph of cases and their contacts, built from two
flat queries whatever its size, laid out here, and drawn by ECharts on the page.

A node is a person (a case, or a contact who is not a case); an edge links a case to each of its
contacts (a secondary contact hangs from the close contact it was met through). A contact who
became a case is one node: the chain runs through them. A chain is a connected component holding a
case. The layout is computed on the server (rings around each chain's first case, chains side by
side): a force layout of 20,000 nodes would keep a phone busy for seconds."""

import datetime
import gc
import math
from collections import defaultdict
from math import cos, sin

from epigrid.tracing.models import Case, Contact

CATEGORIES = ("case", "close", "secondary", "general")
CASE, CLOSE, SECONDARY, GENERAL = range(4)
CLASS_INDEX = {"close": CLOSE, "secondary": SECONDARY, "general": GENERAL}
RING = 40.0  # distance between rings of a chain
NODE_GAP = 14.0  # arc length between neighbours on a ring


def build(cases, contacts):
    """The graph of `cases` and `contacts` (querysets, already scoped) as compact lists:
    nodes [[person id, name, category, x, y, case id or 0]], links [[source, target]], with the
    counts and the timeline."""
    # Tens of thousands of small lists and tuples, none of them cyclic: the cycle collector would
    # walk them several times over for nothing (half the build's time at 20,000 contacts).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(cases, contacts)
    finally:
        if enabled:
            gc.enable()


def _build(cases, contacts):
    case_rows = list(
        cases.order_by("positive_at", "pk").values_list(
            "pk", "person_id", "person__name", "source_contact_id", "onset_date", "sampled_on"
        )
    )
    contact_rows = list(
        contacts.exclude(status=Contact.Status.DISMISSED)
        .order_by("pk")
        .values_list(
            "case__person_id", "person_id", "person__name", "contact_class", "last_contact", "via__person_id"
        )
    )
    names, category, case_of = {}, {}, {}
    for case_id, person_id, name, _source, _onset, _sampled in case_rows:
        names[person_id] = name
        category[person_id] = CASE
        case_of[person_id] = case_id
    adjacency = defaultdict(list)
    links = []
    for case_person, person_id, name, contact_class, _last, via_person in contact_rows:
        if person_id not in category:
            names[person_id] = name
            category[person_id] = CLASS_INDEX[contact_class]
        elif category[person_id] != CASE:
            category[person_id] = min(category[person_id], CLASS_INDEX[contact_class])
        parent = via_person or case_person
        links.append((parent, person_id))
        adjacency[parent].append(person_id)
        adjacency[person_id].append(parent)
        names.setdefault(parent, "")
        category.setdefault(parent, CLOSE)
    positions, chains = _layout([r[1] for r in case_rows], names, adjacency)
    # Whole pixels: the graph is zoomed anyway, and integers cost less to write and to send.
    nodes = [
        [pid, names[pid], category[pid], int(x), int(y), case_of.get(pid, 0)]
        for pid, (x, y) in positions.items()
    ]
    from_contacts = sum(1 for row in case_rows if row[3] is not None)
    return {
        "categories": list(CATEGORIES),
        "nodes": nodes,
        "links": links,
        "counts": {
            "cases": len(case_rows),
            "contacts": len({row[1] for row in contact_rows}),
            "chains": chains,
            "from_contacts": from_contacts,
            "new_chains": len(case_rows) - from_contacts,
        },
        "timeline": _timeline(case_rows, contact_rows),
    }


def _layout(roots, names, adjacency):
    """Positions of every node and the number of chains: each component in rings (breadth first)
    around its earliest case, components placed left to right in rows by size."""
    seen = set()
    components = []
    for start in [*roots, *names]:
        if start in seen:
            continue
        seen.add(start)
        rings = [[start]]
        while True:
            nxt = []
            for node in rings[-1]:
                for other in adjacency[node]:
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            if not nxt:
                break
            rings.append(nxt)
        components.append(rings)
    positions = {}
    chains = 0
    root_set = set(roots)
    x0 = y0 = row_height = 0.0
    width = max(1000.0, math.sqrt(len(names)) * 60)
    for rings in components:
        if any(node in root_set for ring in rings for node in ring):
            chains += 1
        radius = _radius(rings)
        if x0 + 2 * radius > width and x0 > 0:
            x0, y0, row_height = 0.0, y0 + row_height + RING, 0.0
        cx, cy = x0 + radius, y0 + radius
        r = 0.0
        for depth, ring in enumerate(rings):
            if depth:
                r = max(r + RING, len(ring) * NODE_GAP / (2 * math.pi))
            step = 2 * math.pi / len(ring)
            for i, node in enumerate(ring):
                positions[node] = (cx + r * cos(i * step), cy + r * sin(i * step))
        x0 += 2 * radius + RING
        row_height = max(row_height, 2 * radius)
    return positions, chains


def _ring_radius(rings, depth):
    """Each ring far enough out for its nodes to sit NODE_GAP apart, and beyond the ring inside it."""
    radius = 0.0
    for d in range(1, depth + 1):
        radius = max(radius + RING, len(rings[d]) * NODE_GAP / (2 * math.pi))
    return radius


def _radius(rings):
    return _ring_radius(rings, len(rings) - 1) + NODE_GAP


def _timeline(case_rows, contact_rows):
    """Cases per day by onset (or first positive sample) and contacts per day by last contact."""
    cases, contacts = defaultdict(int), defaultdict(int)
    for row in case_rows:
        cases[row[4] or row[5]] += 1
    for row in contact_rows:
        contacts[row[4]] += 1
    known = set(cases) | set(contacts)
    # Every day from the first to the last, so a quiet day shows as a gap, not as nothing.
    days = (
        [min(known) + datetime.timedelta(days=n) for n in range((max(known) - min(known)).days + 1)]
        if known
        else []
    )
    return {
        "days": [d.isoformat() for d in days],
        "cases": [cases.get(d, 0) for d in days],
        "contacts": [contacts.get(d, 0) for d in days],
    }


def chain_of(case):
    """The cases of `case`'s chain (following contacts who became cases both ways), for the
    case page's "in this chain" list and a chain's own graph."""
    found = {case.pk}
    frontier = {case.pk}
    while frontier:
        up = set(
            Case.objects.filter(pk__in=frontier, source_contact__isnull=False).values_list(
                "source_contact__case_id", flat=True
            )
        )
        down = set(Case.objects.filter(source_contact__case_id__in=frontier).values_list("pk", flat=True))
        frontier = (up | down) - found
        found |= frontier
    return found
