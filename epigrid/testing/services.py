"""Named service functions of mass testing. The batch API, the desk page and the demo put samples
in only through `ingest`; other apps read coverage through `coverage` and `missed`."""

import datetime
import uuid
from collections import Counter, defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from epigrid.areas.models import Area, Level
from epigrid.audit.services import log_change
from epigrid.core import identity, reasons
from epigrid.core.scoping import check_in_scope, may
from epigrid.people import codes
from epigrid.people.models import DocumentType, Person
from epigrid.testing.models import (
    SWEEP_EXEMPTS,
    Campaign,
    Desk,
    Exemption,
    ExemptionReason,
    Find,
    Group,
    HomeTask,
    Sample,
    SampledPerson,
    SamplingPoint,
    SweepOutcome,
    SweepVisit,
    Tube,
)

ACCEPTED, DUPLICATE, REFUSED = "accepted", "duplicate", "refused"
MAX_BATCH = 1000
# Clocks of phones drift; a scan "from the future" beyond this is a wrong clock or a forgery.
FUTURE_SLACK = datetime.timedelta(minutes=10)
EARLY_SLACK = datetime.timedelta(hours=1)
# "name" gives a name (and phone) to the find a scanned, unregistered document made: the desk
# asks for it after the outcome comes back, as a scan of its own so it queues offline like any.
ACTIONS = ("sample", "close", "seal", "name")


_DOC_TYPES = frozenset(DocumentType.values)  # the enum rebuilds its list on every call


class BatchError(ValidationError):
    """The batch as a whole is unusable (not a list, too long): nothing in it was looked at."""


def _outcome(client_id, status, reason="", **extra):
    return {"client_id": client_id, "status": status, "reason": str(reason), **extra}


def _parse_scan(raw, now):
    """A scan's fields checked on their own, without the database: a dict, or (client_id, reason)."""
    if not isinstance(raw, dict):
        return None, _("A scan is an object with client_id, campaign, desk, tube and a person.")
    client_id = raw.get("client_id")
    try:
        client_id = str(uuid.UUID(str(client_id)))
    except (TypeError, ValueError, AttributeError):
        return str(client_id or ""), _("client_id must be a UUID made when the scan was taken.")
    action = raw.get("action") or "sample"
    if action not in ACTIONS:
        return client_id, _("Unknown action “%(action)s”.") % {"action": str(action)[:20]}
    try:
        campaign_id, desk_id = int(raw.get("campaign")), int(raw.get("desk"))
    except (TypeError, ValueError):
        return client_id, _("campaign and desk must be the ids of a round and a desk.")
    scanned_at = raw.get("scanned_at")
    parsed = parse_datetime(scanned_at) if isinstance(scanned_at, str) else None
    if parsed is None:
        return client_id, _("scanned_at must be a date and time such as 2022-04-01T08:30:00+08:00.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > now + FUTURE_SLACK:
        return client_id, _("scanned_at lies in the future: check the phone's clock.")
    tube = raw.get("tube")
    if not isinstance(tube, str) or not tube.strip():
        return client_id, _("Scan the tube barcode first.")
    scan = {
        "client_id": client_id,
        "action": action,
        "campaign": campaign_id,
        "desk": desk_id,
        "tube": tube,
        "scanned_at": parsed,
        "name": str(raw.get("name") or "")[:64].strip(),
        "phone": str(raw.get("phone") or "")[:20].strip(),
    }
    if action in ("close", "seal"):
        return scan, None
    if action == "name" and not scan["name"]:
        return client_id, _("Type the person's name.")
    qr, number = raw.get("qr"), raw.get("document_number")
    if qr:
        scan["qr"], scan["via"] = str(qr)[:200], Sample.Via.QR
        return scan, None
    if not number:
        return client_id, _("Scan the person's ID card or personal code, or type the ID number.")
    doc_type = str(raw.get("document_type") or DocumentType.RESIDENT_ID)
    if doc_type not in _DOC_TYPES:
        return client_id, _("Unknown document type “%(type)s”.") % {"type": doc_type[:8]}
    try:
        scan["doc_number"] = identity.normalise_document(doc_type, number)
    except ValidationError as exc:
        # The message names what is wrong, never the number (it may be someone else's).
        return client_id, exc.messages[0]
    scan["doc_type"] = doc_type
    scan["via"] = Sample.Via.TYPED if raw.get("typed") else Sample.Via.DOCUMENT
    return scan, None


def _postable_desks(user, desk_ids):
    """Desks (with point and round) where `user` may take samples."""
    points = SamplingPoint.objects.restrict(user, perm="testing.add_sample")
    return {
        d.pk: d
        for d in Desk.objects.filter(pk__in=desk_ids, point__in=points.values("pk"))
        .select_related("point", "point__campaign")
        .order_by()
    }


def ingest(user, scans, now=None):
    """Take a batch of scans (the desk's queue, the batch API); one outcome per scan, in order.

    Each scan carries the client id it got when it was made. A client id seen before is
    `duplicate` and changes nothing, so a retry, a second tab or a flaky network can neither lose
    nor double a sample. Rules (decision 0019): a tube belongs to one round and one desk, holds at
    most the round's pooling size (the scan that fills it closes it and says 换管), one household
    in a household round; a person sampled before in the round is accepted with a warning; a
    person not in the registry is accepted and becomes a find for the grid to register."""
    if not isinstance(scans, list):
        raise BatchError(_("scans must be a list."))
    if len(scans) > MAX_BATCH:
        raise BatchError(_("At most %(n)d scans per batch.") % {"n": MAX_BATCH})
    now = now or timezone.now()
    outcomes = [None] * len(scans)
    parsed = []
    for i, raw in enumerate(scans):
        scan, error = _parse_scan(raw, now)
        if error is not None:
            outcomes[i] = _outcome(scan if isinstance(scan, str) else "", REFUSED, error)
        else:
            parsed.append((i, scan))
    # The same client id twice in one batch: the later one is the duplicate.
    seen = set()
    for i, scan in list(parsed):
        if scan["client_id"] in seen:
            outcomes[i] = _outcome(scan["client_id"], DUPLICATE, _("Already received."))
            parsed.remove((i, scan))
        seen.add(scan["client_id"])

    desks = _postable_desks(user, {s["desk"] for _i, s in parsed})
    live = []
    barcodes = {}  # (round, barcode as scanned) -> checked barcode or refusal: ten scans a tube
    for i, scan in parsed:
        desk = desks.get(scan["desk"])
        campaign = desk.point.campaign if desk is not None else None
        if desk is None:
            reason = _("You are not posted at this desk, or it does not exist.")
        elif campaign.pk != scan["campaign"]:
            reason = _("This desk belongs to another round.")
        elif campaign.status == Campaign.Status.PLANNED:
            reason = _("This round has not started yet.")
        elif scan["scanned_at"] < campaign.starts_at - EARLY_SLACK:
            reason = _("scanned_at is before the round started: check the phone's clock.")
        else:
            key = (campaign.pk, scan["tube"])
            if key not in barcodes:
                try:
                    barcodes[key] = (campaign.check_tube_barcode(scan["tube"]), None)
                except ValidationError as exc:
                    barcodes[key] = (None, exc.messages[0])
            checked, reason = barcodes[key]
            if reason is None:
                scan["tube"] = checked
        if reason:
            outcomes[i] = _outcome(scan["client_id"], REFUSED, reason)
        else:
            scan["desk_obj"], scan["campaign_obj"] = desk, campaign
            live.append((i, scan))
    if live:
        _resolve_persons(live)
        for attempt in range(3):
            try:
                _write(user, live, outcomes, now)
                break
            except IntegrityError:
                # Two desks opened the same new tube at the same instant: the loser retries and
                # then meets the winner's tube under its lock.
                if attempt == 2:
                    raise
    return outcomes


class _Person:
    """The few facts of a person the ingest needs, read as plain values: model instances (with
    their change-log snapshot) cost more than the rest of a scan (decision 0019)."""

    __slots__ = ("pk", "name", "area_id", "household_id", "birth_year", "sex", "merged_into_id")

    FIELDS = ("id", "name", "area_id", "household_id", "birth_date", "sex", "merged_into_id")

    def __init__(self, pk, name, area_id, household_id, birth_date, sex, merged_into_id):
        self.pk, self.name, self.area_id, self.household_id = pk, name, area_id, household_id
        self.birth_year = birth_date.year if birth_date else None
        self.sex, self.merged_into_id = sex, merged_into_id

    @classmethod
    def of(cls, person):
        return cls(*(getattr(person, "pk" if f == "id" else f) for f in cls.FIELDS))


def _resolve_persons(live):
    numbers = {s["doc_number"] for _i, s in live if "doc_number" in s}
    by_doc = {}
    if numbers:
        # Raw: a hundred numbers as one array parameter plan and run in a fraction of the ORM's
        # IN list of a hundred parameters (a scan's share of the ingest counts).
        where, params = _values_in("doc_number", numbers)
        rows = _select(
            f"SELECT doc_type, doc_number, {', '.join(_Person.FIELDS)} FROM {Person._meta.db_table} WHERE {where}",
            params,
        )
        by_doc = {(row[0], row[1]): _Person(*row[2:]) for row in rows}
    merged = {p.merged_into_id for p in by_doc.values() if p.merged_into_id}
    survivors = {}
    if merged:
        survivors = {
            row[0]: _Person(*row) for row in Person.objects.filter(pk__in=merged).values_list(*_Person.FIELDS)
        }
    qr = codes.read_codes({s["qr"] for _i, s in live if "qr" in s})
    for _i, scan in live:
        if "qr" in scan:
            result = qr[scan["qr"]]
            if isinstance(result, ValidationError):
                scan["error"] = result.messages[0]
            else:
                scan["person"] = _Person.of(result)
        elif "doc_number" in scan:
            person = by_doc.get((scan["doc_type"], scan["doc_number"]))
            if person is not None and person.merged_into_id:
                person = survivors.get(person.merged_into_id, person)
            scan["person"] = person


# Columns of a sample row as the ingest writes it (COPY on PostgreSQL; the types document them).
_SAMPLE_COLUMNS = (
    ("client_id", "uuid"),
    ("campaign_id", "bigint"),
    ("point_id", "bigint"),
    ("desk_id", "bigint"),
    ("tube_id", "bigint"),
    ("position", "smallint"),
    ("person_id", "bigint"),
    ("find_id", "bigint"),
    ("via", "varchar"),
    ("repeat", "boolean"),
    ("scanned_at", "timestamptz"),
    ("received_at", "timestamptz"),
    ("scanned_by_id", "bigint"),
    ("status", "varchar"),
    ("created", "timestamptz"),
    ("last_updated", "timestamptz"),
)


def _values_in(column, values):
    """`column IN (…)` as SQL and parameters: one array parameter on PostgreSQL."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _select(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@transaction.atomic
def _write(user, live, outcomes, now):
    # Tubes: create the new ones (a barcode already there is left alone), then lock every tube of
    # the batch in id order (no deadlocks between desks). Under the locks, counts and client ids
    # are settled for good.
    barcodes = {s["tube"]: s for _i, s in live}
    new = [
        Tube(
            barcode=code,
            campaign_id=s["campaign"],
            point_id=s["desk_obj"].point_id,
            desk=s["desk_obj"],
            capacity=s["campaign_obj"].capacity,
            opened_at=s["scanned_at"],
            opened_by=user,
        )
        for code, s in barcodes.items()
        if s["action"] == "sample"
    ]
    if new:
        Tube.objects.bulk_create(new, ignore_conflicts=True)
    tubes = {
        t.barcode: t for t in Tube.objects.select_for_update().filter(barcode__in=barcodes).order_by("id")
    }
    known, sampled_before = _seen_before(live)
    rows, finds, first_seen, touched = [], {}, {}, set()
    for i, scan in live:
        cid = scan["client_id"]
        if cid in known:
            outcomes[i] = _outcome(cid, DUPLICATE, _("Already received."))
            continue
        if scan["action"] == "name":
            outcomes[i] = _name_find(scan)
            continue
        tube = tubes.get(scan["tube"])
        reason = _check_tube(tube, scan)
        if reason:
            outcomes[i] = _outcome(cid, REFUSED, reason, tube=scan["tube"])
            continue
        if scan["action"] != "sample":
            outcomes[i] = _tube_action(tube, scan, now)
            touched.add(tube.pk)
            continue
        if scan.get("error"):
            outcomes[i] = _outcome(cid, REFUSED, scan["error"])
            continue
        person = scan.get("person")
        campaign = scan["campaign_obj"]
        if campaign.per_household and person is not None and person.household_id:
            if tube.household_id and tube.household_id != person.household_id:
                outcomes[i] = _outcome(
                    cid,
                    REFUSED,
                    _("This tube holds another household: open a new tube for this household."),
                    tube=tube.barcode,
                )
                continue
            tube.household_id = person.household_id
        tube.count += 1
        touched.add(tube.pk)
        warnings = []
        row = {
            "client_id": cid,
            "campaign_id": campaign.pk,
            "point_id": tube.point_id,
            "desk_id": tube.desk_id,
            "tube_id": tube.pk,
            "position": tube.count,
            "person_id": person.pk if person is not None else None,
            "find_id": None,
            "via": scan["via"],
            "repeat": False,
            "scanned_at": scan["scanned_at"],
            "received_at": now,
            "scanned_by_id": user.pk,
            "status": Sample.Status.ACTIVE,
            "created": now,
            "last_updated": now,
        }
        extra = {"tube": tube.barcode, "position": tube.count, "capacity": tube.capacity}
        if person is not None:
            key = (campaign.pk, person.pk)
            if key in sampled_before or key in first_seen:
                row["repeat"] = True
                warnings.append(_("Already sampled in this round: both samples are kept."))
            else:
                first_seen[key] = (row, person)
            extra["person"] = {
                "name": identity.mask_name(person.name),
                "birth_year": person.birth_year,
                "sex": person.sex,
            }
        else:
            fkey = (campaign.pk, scan["doc_type"], scan["doc_number"])
            info = {"name": identity.mask_name(scan["name"]), "birth_year": None, "sex": None}
            entry = finds.setdefault(fkey, (scan, scan["desk_obj"].point.area_id, [], []))
            entry[2].append(row)
            entry[3].append(info)
            warnings.append(
                _("Not in the registry: the sample is kept and the grid will register this person.")
            )
            extra["person"] = info
            extra["unregistered"] = True
        if tube.count >= tube.capacity:
            tube.status, tube.closed_at = Tube.Status.CLOSED, now
            extra["tube_full"] = True
            warnings.append(_("Tube full: change the tube (换管)."))
        rows.append(row)
        outcomes[i] = _outcome(cid, ACCEPTED, " ".join(str(w) for w in warnings), **extra)
    if finds:
        _attach_finds(finds)
    if rows:
        _insert_samples(rows)
    if first_seen:
        # In key order: two desks sampling the same persons at once take their unique-index
        # entries in the same order, so neither waits on the other in a cycle.
        _insert_sampled(
            [
                (c, p.pk, p.area_id, row["id"], row["scanned_at"])
                for (c, _pid), (row, p) in sorted(first_seen.items(), key=lambda item: item[0])
            ]
        )
    if touched:
        _update_tubes([t for t in tubes.values() if t.pk in touched])
    if any(s["desk_obj"].point.is_home_team for _i, s in live):
        _complete_home_tasks(rows)


def _seen_before(live):
    """(client ids of the batch already received, (round, person) pairs of the batch's persons
    already sampled), read under the tube locks: one round trip on PostgreSQL."""
    client_ids = [s["client_id"] for _i, s in live]
    persons = list({s["person"].pk for _i, s in live if s.get("person") is not None})
    campaigns = list({s["campaign"] for _i, s in live})
    if connection.vendor == "postgresql":
        rows = _select(
            f"SELECT client_id::text, NULL, NULL FROM {Sample._meta.db_table} WHERE client_id = ANY(%s::uuid[]) "
            f"UNION ALL SELECT NULL, campaign_id, person_id FROM {SampledPerson._meta.db_table} "
            "WHERE campaign_id = ANY(%s::bigint[]) AND person_id = ANY(%s::bigint[])",
            [client_ids, campaigns, persons],
        )
        return {r[0] for r in rows if r[0] is not None}, {(r[1], r[2]) for r in rows if r[0] is None}
    known = {str(c) for c in Sample.objects.filter(client_id__in=client_ids).values_list("client_id", flat=True)}
    sampled_before = set()
    if persons:
        sampled_before = set(
            SampledPerson.objects.filter(campaign_id__in=campaigns, person_id__in=persons).values_list(
                "campaign_id", "person_id"
            )
        )
    return known, sampled_before


def _insert_samples(rows):
    """Sample rows written at once, their ids set on the dicts: COPY on PostgreSQL (no model
    instances: a third of the ingest's time went into them), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        objs = [
            Sample(**{k: v for k, v in row.items() if k not in ("created", "last_updated")}) for row in rows
        ]
        Sample.objects.bulk_create(objs)
        for row, obj in zip(rows, objs, strict=True):
            row["id"] = obj.pk
        return
    # Keys from the sequence first, then COPY: psycopg writes COPY rows in C, where arrays or
    # VALUES lists are dumped value by value in Python (most of the ingest's time went there).
    table = Sample._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row["id"] = pk
        names = ", ".join(connection.ops.quote_name(c) for c in ("id", *(c for c, _t in _SAMPLE_COLUMNS)))
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row["id"], *(row[c] for c, _t in _SAMPLE_COLUMNS)])


def _insert_sampled(values):
    """(campaign, person, area, first sample, sampled at) rows; a person already counted stays."""
    if connection.vendor != "postgresql":
        SampledPerson.objects.bulk_create(
            [
                SampledPerson(campaign_id=c, person_id=p, area_id=a, first_sample_id=s, sampled_at=t)
                for c, p, a, s, t in values
            ],
            ignore_conflicts=True,
        )
        return
    table = SampledPerson._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, person_id, area_id, first_sample_id, sampled_at) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::timestamptz[]) "
            "ON CONFLICT (campaign_id, person_id) DO NOTHING",
            [list(column) for column in zip(*values, strict=True)],
        )


def _update_tubes(tubes):
    """The batch's tubes' counts and states, in one UPDATE … FROM unnest(…) on PostgreSQL
    (bulk_update's CASE expressions cost more than the rest of the batch)."""
    fields = ["count", "status", "closed_at", "sealed_at", "household"]
    if connection.vendor != "postgresql":
        Tube.objects.bulk_update(tubes, fields)
        return
    table = Tube._meta.db_table
    columns = [[t.pk for t in tubes], [t.count for t in tubes], [t.status for t in tubes]]
    columns += [[t.closed_at for t in tubes], [t.sealed_at for t in tubes], [t.household_id for t in tubes]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET count = v.count, status = v.status, closed_at = v.closed_at, "
            "sealed_at = v.sealed_at, household_id = v.household_id "
            "FROM unnest(%s::bigint[], %s::integer[], %s::varchar[], %s::timestamptz[], %s::timestamptz[], "
            "%s::bigint[]) AS v(id, count, status, closed_at, sealed_at, household_id) WHERE t.id = v.id",
            columns,
        )


def _complete_home_tasks(rows):
    """A home team's sample of a person with an open home-sampling task for it closes the task."""
    wanted = {(r["campaign_id"], r["person_id"], r["point_id"]): r for r in rows if r["person_id"]}
    if not wanted:
        return
    tasks = HomeTask.objects.filter(
        status=HomeTask.Status.OPEN,
        campaign_id__in={k[0] for k in wanted},
        person_id__in={k[1] for k in wanted},
        team__is_home_team=True,
    )
    for task in tasks:
        row = wanted.get((task.campaign_id, task.person_id, task.team_id))
        if row is not None:
            task.transition(HomeTask.Status.DONE, sample_id=row["id"])


def _name_find(scan):
    cid = scan["client_id"]
    if "doc_number" not in scan:
        return _outcome(cid, REFUSED, _("Name a person by their document number."))
    phone = ""
    if scan["phone"]:
        try:
            phone = identity.normalise_phone(scan["phone"])
        except ValidationError as exc:
            return _outcome(cid, REFUSED, exc.messages[0])
    named = Find.objects.filter(
        campaign_id=scan["campaign"],
        doc_type=scan["doc_type"],
        doc_number=scan["doc_number"],
        status=Find.Status.PENDING,
        name="",
    ).update(name=scan["name"], phone=phone)
    if not named:
        return _outcome(cid, DUPLICATE, _("This person already has a name, or was not found unregistered."))
    return _outcome(
        cid, ACCEPTED, "", person={"name": identity.mask_name(scan["name"]), "birth_year": None, "sex": None}
    )


def _check_tube(tube, scan):
    if tube is None:
        return _("Unknown tube: scan a new tube to open it.")
    if tube.campaign_id != scan["campaign"]:
        return _("This tube was used in another round: take a new tube.")
    if tube.desk_id != scan["desk_obj"].pk:
        return _("This tube is open at another desk (%(desk)s): take a new tube.") % {"desk": tube.desk.name}
    if scan["action"] == "sample":
        if tube.status == Tube.Status.SEALED:
            return _("This tube is sealed: take a new tube.")
        if tube.status == Tube.Status.CLOSED or tube.count >= tube.capacity:
            return _("This tube is full or closed: change the tube (换管).")
    return None


def _tube_action(tube, scan, now):
    cid = scan["client_id"]
    target = Tube.Status.CLOSED if scan["action"] == "close" else Tube.Status.SEALED
    if tube.status == target or tube.status == Tube.Status.SEALED:
        return _outcome(
            cid, DUPLICATE, _("The tube is already %(state)s.") % {"state": tube.get_status_display()}
        )
    if tube.count == 0:
        return _outcome(cid, REFUSED, _("An empty tube cannot be closed or sealed."), tube=tube.barcode)
    tube.status = target
    tube.closed_at = tube.closed_at or now
    if target == Tube.Status.SEALED:
        tube.sealed_at = now
    return _outcome(cid, ACCEPTED, "", tube=tube.barcode, tube_status=target, count=tube.count)


def _attach_finds(finds):
    """One find per unregistered document per round, however many times it was scanned."""
    keys = list(finds)
    existing = {
        (f.campaign_id, f.doc_type, f.doc_number): f
        for f in Find.objects.filter(
            campaign_id__in={k[0] for k in keys}, doc_number__in={k[2] for k in keys}
        )
    }
    for key, (scan, area_id, samples, infos) in finds.items():
        find = existing.get(key)
        if find is None:
            phone = ""
            if scan["phone"]:
                try:
                    phone = identity.normalise_phone(scan["phone"])
                except ValidationError:
                    phone = ""
            find = Find.objects.create(
                campaign_id=key[0],
                doc_type=key[1],
                doc_number=key[2],
                name=scan["name"],
                phone=phone,
                area_id=area_id,
            )
        for row in samples:
            row["find_id"] = find.pk
        # A stranger named at an earlier scan answers with that name (masked): the desk does not
        # ask for it again.
        for info in infos:
            if not info["name"] and find.name:
                info["name"] = identity.mask_name(find.name)


# Tubes by hand (the desk page and the API)


def set_tube_status(user, tube, target, note=""):
    """Close early, reopen or seal a tube by hand; refused with a reason when the rules say no."""
    if not Tube.objects.restrict(user, perm="testing.add_sample").filter(pk=tube.pk).exists():
        raise PermissionDenied(_("You are not posted at this tube's point."))
    with transaction.atomic():
        tube = Tube.objects.select_for_update().get(pk=tube.pk)
        if target == Tube.Status.OPEN and tube.count >= tube.capacity:
            raise ValidationError(_("A full tube cannot be reopened."))
        if target != Tube.Status.OPEN and tube.count == 0:
            raise ValidationError(_("An empty tube cannot be closed or sealed."))
        now = timezone.now()
        fields = {"closed_at": tube.closed_at or now} if target != Tube.Status.OPEN else {"closed_at": None}
        if target == Tube.Status.SEALED:
            fields["sealed_at"] = now
        tube.transition(target, note, **fields)
    return tube


def move_sample(user, sample, to_tube, reason):
    """Move a person's sample to another open tube of the same round, with a reason (audited)."""
    reason = reasons.clean_reason(reason)
    if not may(user, sample):
        raise PermissionDenied(_("You may not move samples at this point."))
    if not Tube.objects.restrict(user, "view").filter(pk=to_tube.pk).exists():
        raise PermissionDenied(_("You may not use that tube."))
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Tube.objects.select_for_update()
            .filter(pk__in=[sample.tube_id, to_tube.pk])
            .order_by("id")
        }
        source, target = locked[sample.tube_id], locked[to_tube.pk]
        sample = Sample.objects.select_for_update().get(pk=sample.pk)
        if sample.status != Sample.Status.ACTIVE:
            raise ValidationError(_("This sample was already moved or voided."))
        if target.pk == source.pk:
            raise ValidationError(_("The sample is already in this tube."))
        if target.campaign_id != sample.campaign_id:
            raise ValidationError(_("The other tube belongs to another round."))
        if target.status != Tube.Status.OPEN or target.count >= target.capacity:
            raise ValidationError(_("The other tube is not open or is full."))
        if source.status == Tube.Status.SEALED:
            raise ValidationError(_("The sample's tube is sealed: its swab cannot be taken out."))
        target.count += 1
        moved = Sample.objects.create(
            client_id=uuid.uuid4(),
            campaign_id=sample.campaign_id,
            point_id=target.point_id,
            desk_id=target.desk_id,
            tube=target,
            position=target.count,
            person_id=sample.person_id,
            find_id=sample.find_id,
            via=sample.via,
            repeat=sample.repeat,
            scanned_at=sample.scanned_at,
            scanned_by=user,
        )
        sample.status, sample.moved_to = Sample.Status.MOVED, moved
        sample.save()
        log_change(
            sample, "update", before={"tube": source.barcode}, after={"tube": target.barcode}, reason=reason
        )
        source.count -= 1
        if target.count >= target.capacity:
            target.status, target.closed_at = Tube.Status.CLOSED, timezone.now()
        Tube.objects.bulk_update([source, target], ["count", "status", "closed_at"])
        SampledPerson.objects.filter(first_sample=sample).update(first_sample=moved)
    return moved


# Rounds


def create_campaign(user, copy_from=None, areas=(), **fields):
    """A new round; with `copy_from` (by default the last round of the same organiser) its points,
    desks and their samplers are copied, so a district sets up round N+1 in a minute."""
    with transaction.atomic():
        campaign = Campaign(**fields)
        campaign.full_clean(exclude=["areas"])
        if copy_from is None:
            copy_from = Campaign.objects.filter(area=campaign.area).order_by("-starts_at", "-id").first()
        campaign.copied_from = copy_from or None
        campaign.save()
        campaign.areas.set(areas or ([campaign.area] if not copy_from else copy_from.areas.all()))
        if copy_from:
            copy_points(copy_from, campaign)
    return campaign


def copy_points(source, campaign):
    for point in source.points.prefetch_related("desks", "staff"):
        staff, desks = list(point.staff.all()), list(point.desks.all())
        point.pk, point.id, point.campaign = None, None, campaign
        point._state.adding = True
        # The copy would otherwise read the source's prefetched staff and add nobody.
        point._prefetched_objects_cache = {}
        point.save()
        point.staff.set(staff)
        Desk.objects.bulk_create([Desk(point=point, name=d.name, is_active=d.is_active) for d in desks])


# Coverage


def scope_grids(campaign, node=None):
    """{grid id: path} of the grids the round covers, under `node` if given."""
    q = Q()
    for path in campaign.areas.values_list("path", flat=True):
        q |= Q(path__startswith=path)
    grids = Area.objects.filter(q, level=Level.GRID)
    if node is not None:
        grids = grids.filter(path__startswith=node.path)
    return dict(grids.values_list("id", "path"))


def grid_counts(campaign, grid_ids):
    """{grid id: (residents, sampled, exempt)}: each a grouped count on an index (decision 0019).
    Exempt counts only exempted persons who were not sampled after all."""
    ids = list(grid_ids)
    # COUNT(*), not COUNT(id): the counts are index-only scans (person_area_live,
    # sampled_campaign_area) only when no other column is read.
    residents = dict(
        Person.objects.filter(area_id__in=ids, merged_into__isnull=True)
        .values_list("area_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    sampled = dict(
        SampledPerson.objects.filter(campaign=campaign, area_id__in=ids)
        .values_list("area_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    exempt = dict(
        Exemption.objects.filter(campaign=campaign, area_id__in=ids)
        .exclude(Exists(SampledPerson.objects.filter(campaign=campaign, person=OuterRef("person"))))
        .values_list("area_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {g: (residents.get(g, 0), sampled.get(g, 0), exempt.get(g, 0)) for g in ids}


def _row(key, residents, sampled, exempt, **extra):
    expected = max(residents - exempt, 0)
    sampled = min(sampled, expected)
    return {
        **extra,
        "residents": residents,
        "expected": expected,
        "sampled": sampled,
        "exempt": exempt,
        "missed": expected - sampled,
        "coverage": round(100 * sampled / expected, 1) if expected else None,
        "key": key,
    }


def coverage(campaign, node, counts=None):
    """The node's row and one per child area: expected, sampled, exempt, missed, coverage %.
    Live: counted from the registry and the samples as they stand, unless `counts` gives
    `grid_counts` of the round's grids already counted (the dashboard's snapshot of seconds ago)."""
    grids = scope_grids(campaign, node)
    if counts is None:
        counts = grid_counts(campaign, grids)
    else:
        counts = {g: tuple(counts.get(g, counts.get(str(g), (0, 0, 0)))) for g in grids}
    children = list(Area.objects.filter(parent=node).order_by("code")) if node.level < Level.GRID else []
    sums = defaultdict(lambda: [0, 0, 0])
    for grid_id, path in grids.items():
        values = counts[grid_id]
        for child in children:
            if path.startswith(child.path):
                for k in range(3):
                    sums[child.pk][k] += values[k]
                break
    total = [sum(v[k] for v in counts.values()) for k in range(3)]
    head = _row(node.code, *total, code=node.code, name=node.name, level=node.level, area_id=node.pk)
    rows = [
        _row(c.code, *sums[c.pk], code=c.code, name=c.name, level=c.level, area_id=c.pk)
        for c in children
        if c.pk in sums
    ]
    return head, rows


def household_coverage(campaign, grid, building=None):
    """Inside one grid: per building (or, with `building`, per household) the same figures."""
    persons = Person.objects.filter(area=grid, merged_into__isnull=True)
    key = "household__building_id" if building is None else "household_id"
    if building is not None:
        persons = persons.filter(household__building=building)
    sampled_q = Exists(SampledPerson.objects.filter(campaign=campaign, person=OuterRef("pk")))
    exempt_q = Exists(Exemption.objects.filter(campaign=campaign, person=OuterRef("pk")))
    rows = (
        persons.values(key)
        .annotate(
            residents=Count("id"),
            sampled=Count("id", filter=Q(sampled_q)),
            exempt=Count("id", filter=Q(exempt_q) & ~Q(sampled_q)),
        )
        .order_by(key)
    )
    return [_row(r[key], r["residents"], r["sampled"], r["exempt"]) for r in rows]


def missed(campaign, grid=None, building=None):
    """Residents in the round's scope neither sampled nor exempt: the sweep list, by address."""
    grids = scope_grids(campaign, grid)
    persons = Person.objects.filter(area_id__in=list(grids), merged_into__isnull=True)
    if building is not None:
        persons = persons.filter(household__building=building)
    return (
        persons.exclude(Exists(SampledPerson.objects.filter(campaign=campaign, person=OuterRef("pk"))))
        .exclude(Exists(Exemption.objects.filter(campaign=campaign, person=OuterRef("pk"))))
        .select_related("household", "household__building", "area")
        .order_by("household__building__name_key", "household__unit", "household__room", "name_key", "id")
    )


def persons_coverage(person_ids, limit=5):
    """Coverage of a set of persons (an enterprise's staff) in the latest `limit` rounds that
    cover any of their areas, newest first: per round the usual row (expected = those of them whose
    area the round covers, less the exempt; sampled; missed; coverage %), three queries a round.
    For other apps (enterprises, decision 0034), which name persons, not areas."""
    paths = dict(Person.objects.filter(pk__in=list(person_ids)).values_list("pk", "area__path"))
    if not paths:
        return []
    above = {p for path in paths.values() for p in _prefixes(path)}
    rounds = (
        Campaign.objects.filter(areas__path__in=above)
        .distinct()
        .order_by("-starts_at", "-pk")[:limit]
    )
    rows = []
    for campaign in rounds:
        covers = list(campaign.areas.values_list("path", flat=True))
        expected = [pk for pk, path in paths.items() if any(path.startswith(c) for c in covers)]
        sampled = set(
            SampledPerson.objects.filter(campaign=campaign, person_id__in=expected).values_list("person_id", flat=True)
        )
        exempt = set(
            Exemption.objects.filter(campaign=campaign, person_id__in=expected).values_list("person_id", flat=True)
        ) - sampled
        rows.append(
            _row(
                campaign.pk,
                len(expected),
                len(sampled),
                len(exempt),
                campaign_id=campaign.pk,
                name=campaign.name,
                starts_at=campaign.starts_at,
                missed_ids=sorted(set(expected) - sampled - exempt),
            )
        )
    return rows


def _prefixes(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


# Sweeps, exemptions, finds, home sampling


def exempt(user, campaign, person, reason, note=""):
    """Record an exemption (once per person and round; again = update)."""
    if reason not in ExemptionReason.values:
        raise ValidationError(_("Unknown exemption reason."))
    with transaction.atomic():
        obj, _created = Exemption.objects.update_or_create(
            campaign=campaign, person=person, defaults={"reason": reason, "note": note, "recorded_by": user}
        )
        _check(user, Exemption, obj, "add")
    return obj


def record_sweep(user, campaign, person, outcome, note="", team=None):
    """A sweep visit's outcome; moved/away/hospital/exempt also exempt the person from the round,
    "not at home" stays on the missed list for the next visit."""
    if outcome not in SweepOutcome.values:
        raise ValidationError(_("Unknown sweep outcome."))
    if outcome == SweepOutcome.EXEMPT and not (note or "").strip():
        raise ValidationError(_("Say why the person is exempt."))
    with transaction.atomic():
        visit = SweepVisit.objects.create(
            campaign=campaign, person=person, outcome=outcome, note=note, visited_by=user
        )
        _check(user, SweepVisit, visit, "add")
        if outcome in SWEEP_EXEMPTS or outcome == SweepOutcome.EXEMPT:
            exempt(user, campaign, person, SWEEP_EXEMPTS.get(outcome, ExemptionReason.OTHER), note)
        if outcome == SweepOutcome.SAMPLED_HOME and team is not None:
            HomeTask.objects.get_or_create(
                campaign=campaign,
                person=person,
                status=HomeTask.Status.OPEN,
                defaults={"team": team, "note": note},
            )
    return visit


def register_find(user, find, person):
    """The grid registered the find as `person`: its samples follow the person into coverage."""
    with transaction.atomic():
        find = Find.objects.select_for_update().get(pk=find.pk)
        find.transition(Find.Status.REGISTERED, person=person)
        samples = list(Sample.objects.filter(find=find, status=Sample.Status.ACTIVE).order_by("scanned_at"))
        Sample.objects.filter(find=find).update(person=person)
        if samples:
            first = samples[0]
            SampledPerson.objects.get_or_create(
                campaign_id=find.campaign_id,
                person=person,
                defaults={"area_id": person.area_id, "first_sample": first, "sampled_at": first.scanned_at},
            )
    return find


def reject_find(user, find, note):
    note = reasons.clean_reason(note)
    find.transition(Find.Status.REJECTED, note)
    return find


def cancel_home_task(user, task, note=""):
    """The visit is not needed (sampled at a point after all, moved away …)."""
    task.transition(HomeTask.Status.CANCELLED, note)
    return task


def reopen_home_task(user, task, note=""):
    """A cancelled visit is needed again; refused while another task for the person is open."""
    if HomeTask.objects.filter(
        campaign=task.campaign, person=task.person, status=HomeTask.Status.OPEN
    ).exists():
        raise ValidationError(_("This person already has an open home-sampling task."))
    try:
        with transaction.atomic():
            task.transition(HomeTask.Status.OPEN, note)
    except IntegrityError:
        raise ValidationError(_("This person already has an open home-sampling task.")) from None
    return task


def group_members(campaign, code, user=None):
    """The (unmerged) members of a pre-formed group, for the desk to scan as one; with `user`, only
    a group that user may see."""
    groups = Group.objects.restrict(user, "view") if user is not None else Group.objects.all()
    group = groups.filter(campaign=campaign, code=identity.normalise_text(code)).first()
    if group is None:
        raise ValidationError(_("No pre-formed group with this code in this round."))
    return list(group.members.filter(merged_into__isnull=True).order_by("id"))


def _check(user, model, obj, action):
    if user is not None:
        check_in_scope(user, obj, action)


def tube_summary(desk):
    """The desk's open tube and today's counts (the desk page's header)."""
    open_tube = desk.tubes.filter(status=Tube.Status.OPEN).order_by("-opened_at").first()
    today = timezone.localdate()
    counts = Counter(
        desk.samples.filter(received_at__date=today, status=Sample.Status.ACTIVE).values_list(
            "repeat", flat=True
        )
    )
    return {"open_tube": open_tube, "samples_today": sum(counts.values()), "repeats_today": counts[True]}
