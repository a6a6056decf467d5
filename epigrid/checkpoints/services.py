"""Named service functions of checkpoints (decision 0027): the one way in for the gate page, the
batch API, the demo and the bench.

At the gate the system answers what it knows of the person — an open key-person measure, a risk
zone on their home, their latest test result and its validity — with the health code, the
temperature and, for arrivals at a road entry, the origin's risk, and suggests a decision; staff
confirm it or override it with a reason. Arrivals the active protocol still manages are put in the
ledger of their destination (`control.services.register_key_person`); others are handed to the
destination as an outsider's registration, which the community receives from today's work."""

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from epigrid.accounts.throttle import auth_epoch
from epigrid.areas.models import Area
from epigrid.audit.services import insert_logged
from epigrid.checkpoints.models import Checkpoint, Decision, Direction, Passage, VehicleCheck
from epigrid.control import plans
from epigrid.control import services as control
from epigrid.control.models import FEVER_FROM, ControlMeasure, KeyPerson, MeasureKind
from epigrid.control.panels import zones_covering_among, zones_in_force
from epigrid.core import identity
from epigrid.core.plates import normalise_plate
from epigrid.core.prepared import Prepared, statement_cursor
from epigrid.core.proccache import MISSING, ProcessCache
from epigrid.core.scoping import may_at
from epigrid.people import codes
from epigrid.people import services as people
from epigrid.people.models import DocumentType, Person, ResidenceType
from epigrid.results import services as results

RECORD = "checkpoints.add_passage"
# The assessment's answer names the person by a signed token the passage brings back (a queue
# synced hours later still counts, a day later the person is scanned again).
TOKEN_SALT = "epigrid.checkpoints.gate"
TOKEN_HOURS = 12
MAX_BATCH = 200
# Worst first: the suggestion is the most severe finding's decision.
SEVERITY = [Decision.PASS, Decision.COMMUNITY, Decision.TESTING, Decision.REFUSE, Decision.ISOLATION]
ARRIVAL_CATEGORY = {"high": "high_risk_arrival", "medium": "medium_risk_arrival", "low": "low_risk_arrival"}
ACCEPTED, DUPLICATE, REFUSED = "accepted", "duplicate", "refused"
# What every scan reads and hardly ever changes — the active protocol, the zones in force, whether
# a user is posted at a checkpoint — is kept per process for a few seconds (decisions 0027
# addendum, 0040): a saved protocol, zone or checkpoint, or a change of a checkpoint's staff, clears
# it in the process that saved it (signals in apps.py); a changed grant changes the key (the user's
# grant rows are part of it); the other processes follow within CACHE_SECONDS.
CACHE_SECONDS = 5.0
_kept = ProcessCache(CACHE_SECONDS)
# Who is posted where, for a token's requests: as long as the token itself (decision 0040).
_posts = ProcessCache(settings.EPIGRID_AUTH_CACHE_SECONDS)


def forget_cached(*_args, **_kwargs):
    """Drop what the gate keeps per process (a protocol, zone or checkpoint saved; between tests)."""
    _kept.clear()
    _posts.clear()


def gate_protocol():
    """The active protocol, as the gate reads it: from the per-process cache."""
    return _kept.cached("protocol", control.active_protocol)


def _zones():
    return _kept.cached("zones", zones_in_force)


class BatchError(ValidationError):
    pass


def _worst(decisions):
    return max(decisions, key=SEVERITY.index, default=Decision.PASS)


@dataclass
class Assessment:
    suggested: str = Decision.PASS
    findings: list = field(default_factory=list)
    entry: KeyPerson | None = None
    measure: ControlMeasure | None = None
    zones: list = field(default_factory=list)
    latest: dict | None = None
    arrival_category: str | None = None
    arrival_traced: bool = False

    def add(self, code, decision, message):
        self.findings.append({"code": code, "decision": decision, "message": message})
        self.suggested = _worst([self.suggested, decision])


# Finding the person


def find_person(user, text, charge=True):
    """The person of a scanned personal code or resident ID (card reader or typed), or None when
    the number is valid but not registered. Refused with the reason: a forged code, a number that
    fails its check digit or birth date. An ID number is an exact lookup (decision 0015): charged
    against the gate's own limits (EPIGRID_GATE_LOOKUP_LIMITS, a gate checks hundreds of persons a
    shift), logged with the masked number (`charge=False`: the batch charged it already)."""
    # A code is signed text: taken as scanned (upper-casing would break its signature).
    raw = "".join(str(text or "").split())
    if raw.startswith(codes.PREFIX):
        text = raw
        found = codes.read_codes([text])[text]
        if isinstance(found, ValidationError):
            raise found
        return found
    number = identity.normalise_document(DocumentType.RESIDENT_ID, raw)
    if charge:
        people.charge_lookups(user, [number], limits=settings.EPIGRID_GATE_LOOKUP_LIMITS)
    # With the home, its areas, the open entry and the latest result, which the assessment reads
    # next (one query, not five).
    person = min(gate_persons_by(pks=[], docs=[number]), key=lambda p: p.pk, default=None)
    if person is not None and person.merged_into_id:
        return people.find_by_document(DocumentType.RESIDENT_ID, number)
    return person


def _persons_by(pks, docs):
    """Persons by key and by resident ID with what the assessment reads beside each one, in the
    same query: home and areas, the open key-person entry's id, the latest result and its sampling
    time."""
    where = Q(pk__in=pks)
    if docs:
        where |= Q(doc_type=DocumentType.RESIDENT_ID, doc_number__in=docs)
    return (
        Person.objects.filter(where)
        .select_related("area", "household__area")
        .annotate(
            gate_entry_id=Subquery(
                KeyPerson.objects.filter(person=OuterRef("pk"), status=KeyPerson.Status.OPEN)
                .order_by()
                .values("pk")[:1]
            ),
            **results.latest_result_columns(),
        )
    )


# Their SQL (the subqueries take longer to put together than to run) built once per process for
# each number of keys and ID numbers (decision 0041).
gate_persons_by = Prepared(_persons_by, pks=Person._meta.pk, docs=Person._meta.get_field("doc_number"))


@dataclass
class Facts:
    """What the system knows of a person at the gate, read once per batch."""

    entry: KeyPerson | None = None
    measure: ControlMeasure | None = None
    zones: list = field(default_factory=list)
    result: str | None = None
    sampled_at: datetime.datetime | None = None


def gather_facts(persons):
    """{person pk: Facts} for many persons in a few queries whatever their number: the persons
    (re-read through `gate_persons_by` unless read so), the open entries with their running step
    (only for key persons), the zones from the per-process map."""
    persons = [p for p in persons if p is not None]
    missing = [p.pk for p in persons if not hasattr(p, "gate_entry_id")]
    if missing:
        again = {p.pk: p for p in gate_persons_by(pks=missing, docs=[])}
        persons = [again.get(p.pk, p) for p in persons]
    entry_ids = {p.gate_entry_id for p in persons if getattr(p, "gate_entry_id", None)}
    entries, measures = {}, {}
    if entry_ids:
        entries = {e.pk: e for e in KeyPerson.objects.filter(pk__in=entry_ids).select_related("protocol")}
        for measure in ControlMeasure.objects.filter(
            key_person_id__in=entry_ids, status__in=("active", "hospitalized")
        ).order_by("-sequence"):
            measures[measure.key_person_id] = measure  # the lowest sequence last, so it stays
    zones = _zones()
    out = {}
    for person in persons:
        entry = entries.get(getattr(person, "gate_entry_id", None))
        household = person.household if person.household_id else None
        place = household.area if household else (person.area if person.area_id else None)
        out[person.pk] = Facts(
            entry=entry,
            measure=measures.get(entry.pk) if entry else None,
            zones=(
                zones_covering_among(
                    zones,
                    place,
                    household.building_id if household else None,
                    household.unit if household else "",
                )
                if place is not None
                else []
            ),
            result=getattr(person, "latest_columns_result", None),
            sampled_at=getattr(person, "latest_columns_sampled_at", None),
        )
    return out


# What the system knows


def assess(
    person,
    checkpoint,
    direction=Direction.IN,
    *,
    origin_risk="none",
    health_code="unknown",
    temperature=None,
    at=None,
    protocol=None,
    facts=None,
):
    """The findings and the suggested decision for `person` at `checkpoint`. `facts` (from
    `gather_facts`, a batch's) is what the system knows of the person; read here when not given."""
    at = at or timezone.now()
    out = Assessment()
    protocol = protocol or control.active_protocol()
    if person is not None:
        if facts is None:
            facts = gather_facts([person])[person.pk]
        entry = facts.entry
        if entry is not None:
            out.entry = entry
            measure = facts.measure
            out.measure = measure
            kind = measure.kind if measure else None
            label = measure.get_kind_display() if measure else entry.get_category_display()
            if kind in (MeasureKind.CENTRALIZED, MeasureKind.HOME_ISOLATION):
                out.add(
                    "measure", Decision.ISOLATION, _("Under %(measure)s: may not pass.") % {"measure": label}
                )
            elif kind == MeasureKind.HOME_MONITORING:
                out.add(
                    "measure",
                    Decision.TESTING,
                    _("Under %(measure)s: test before passing.") % {"measure": label},
                )
            else:
                out.add("measure", Decision.PASS, _("In the key-person ledger: %(what)s.") % {"what": label})
        if facts.zones:
            zones = facts.zones
            out.zones = zones
            if direction == Direction.OUT:
                zone = zones[0]
                out.add(
                    "zone",
                    Decision.REFUSE,
                    _("Lives in a %(level)s zone: may go out only with a household pass.")
                    % {"level": zone.level_label},
                )
        latest = results.describe_result(
            facts.result, facts.sampled_at, now=at, hours=results.validity_hours(protocol)
        )
        out.latest = latest
        if latest is not None and latest["result"] in ("positive", "pooled_positive"):
            out.add("result", Decision.ISOLATION, _("Latest test: %(r)s.") % {"r": latest["result_display"]})
        elif checkpoint.is_entry and direction == Direction.IN and (latest is None or not latest["valid"]):
            out.add("result", Decision.TESTING, _("No valid negative test: test at the checkpoint."))
    if health_code == Passage.HealthCode.RED:
        out.add("code", Decision.ISOLATION, _("Red health code."))
    elif health_code == Passage.HealthCode.YELLOW:
        out.add("code", Decision.TESTING, _("Yellow health code: test before passing."))
    # Through str: a float 37.3 is 37.29999… and would pass as no fever.
    if temperature is not None and Decimal(str(temperature)) >= FEVER_FROM:
        out.add(
            "fever",
            Decision.TESTING,
            _("Fever %(t)s °C: to the fever clinic and a test.") % {"t": temperature},
        )
    if direction == Direction.IN and checkpoint.is_entry and origin_risk in ARRIVAL_CATEGORY:
        category = ARRIVAL_CATEGORY[origin_risk]
        out.arrival_category = category
        out.arrival_traced = plans.is_traced(protocol.rules, category)
        if out.arrival_traced:
            out.add(
                "arrival",
                Decision.COMMUNITY,
                _("Arrival from a %(risk)s area: hand to the destination community (%(protocol)s).")
                % {"risk": Passage.OriginRisk(origin_risk).label, "protocol": protocol.short_name},
            )
        else:
            out.add(
                "arrival",
                Decision.PASS,
                _("Under %(protocol)s arrivals from %(risk)s areas are not managed; registered only.")
                % {"risk": Passage.OriginRisk(origin_risk).label, "protocol": protocol.short_name},
            )
    return out


def person_summary(person, assessment):
    """What the gate page shows of the person: name, masked number, birth year, status lines."""
    if person is None:
        return None
    latest = assessment.latest
    return {
        "id": person.pk,
        # What the gate page sends back with the passage instead of the number: the lookup was
        # charged once, here, and the phone's queue holds no full ID number.
        "token": signing.dumps(person.pk, salt=TOKEN_SALT),
        "name": person.name,
        "doc_number": identity.mask_document(person.doc_number),
        "birth_year": person.birth_year,
        "area": person.area.name if person.area_id else "",
        "entry": str(assessment.entry.get_category_display()) if assessment.entry else None,
        "measure": str(assessment.measure.get_kind_display()) if assessment.measure else None,
        "zone": assessment.zones[0].level_label if assessment.zones else None,
        "latest": (
            {
                "result": latest["result"],
                "result_display": latest["result_display"],
                "valid": latest["valid"],
                "valid_until": latest["valid_until"].isoformat() if latest["valid_until"] else None,
            }
            if latest
            else None
        ),
    }


# Recording passages


def posts_of(user):
    """The ids of the checkpoints `user` is on the staff of, kept as postable_checkpoints' answers
    are (a change of staff moves the auth epoch and clears this process's)."""
    epoch = auth_epoch(user)
    kept = _kept if epoch is None else _posts
    key = ("staff", user.pk, epoch)
    found = kept.get(key)
    if found is MISSING:
        found = frozenset(Checkpoint.staff.through.objects.filter(user_id=user.pk).values_list("checkpoint_id", flat=True))
        kept.put(key, found)
    return found


def postable_checkpoints(user, ids):
    """{id: checkpoint} of the active checkpoints among `ids` where `user` may record passages
    (each answer kept per process, keyed by the user's grants: under the auth epoch of a token's
    request as long as its token is kept — a change of staff moves the epoch —, CACHE_SECONDS
    otherwise)."""
    grants = tuple(sorted(user._grant_rows())) if user.is_authenticated else ()
    epoch = auth_epoch(user)
    kept = _kept if epoch is None else _posts
    key = ("post", user.pk, user.is_superuser, user.is_active, grants, epoch)
    out, missing = {}, []
    for pk in ids:
        found = kept.get((*key, pk))
        if found is MISSING:
            missing.append(pk)
        elif found is not None:
            out[pk] = found
    if missing:
        rows = Checkpoint.objects.restrict(user, perm=RECORD).filter(pk__in=missing, is_active=True)
        found = {c.pk: c for c in rows.select_related("area")}
        for pk in missing:
            kept.put((*key, pk), found.get(pk))
        out.update(found)
    return out


def _parse(raw, now):
    """A scan's fields, checked: (scan, None) or (client id, reason)."""
    if not isinstance(raw, dict):
        return "", _("Each scan must be an object.")
    try:
        client_id = str(uuid.UUID(str(raw.get("client_id", ""))))
    except ValueError:
        return "", _("client_id must be a UUID.")
    scan = {"client_id": client_id}
    try:
        scan["checkpoint"] = int(raw.get("checkpoint"))
    except (TypeError, ValueError):
        return client_id, _("checkpoint must be a checkpoint's id.")
    at = parse_datetime(str(raw.get("at") or "")) if raw.get("at") else now
    if at is None:
        return client_id, _("at must be a date and time (ISO 8601).")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + datetime.timedelta(minutes=5):
        return client_id, _("at is in the future: check the phone's clock.")
    scan["at"] = at
    scan["direction"] = raw.get("direction") or Direction.IN
    if scan["direction"] not in Direction.values:
        return client_id, _("direction must be in or out.")
    scan["health_code"] = raw.get("health_code") or Passage.HealthCode.UNKNOWN
    if scan["health_code"] not in Passage.HealthCode.values:
        return client_id, _("Unknown health-code colour.")
    scan["origin_risk"] = raw.get("origin_risk") or Passage.OriginRisk.NONE
    if scan["origin_risk"] not in Passage.OriginRisk.values:
        return client_id, _("Unknown origin risk.")
    scan["origin"] = str(raw.get("origin") or "")[:100]
    temperature = raw.get("temperature")
    if temperature in (None, ""):
        scan["temperature"] = None
    else:
        try:
            value = Decimal(str(temperature)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            return client_id, _("The temperature must be a number such as 36.5.")
        if not Decimal("34.0") <= value <= Decimal("43.0"):
            return client_id, _("The temperature must be between 34.0 and 43.0 °C.")
        scan["temperature"] = value
    decision = raw.get("decision") or ""
    if decision and decision not in Decision.values:
        return client_id, _("Unknown decision.")
    scan["decision"] = decision
    scan["reason"] = str(raw.get("reason") or "").strip()[:200]
    scan["offline"] = bool(raw.get("offline"))
    scan["person"] = raw.get("person") or {}
    if not isinstance(scan["person"], dict):
        return client_id, _("person must be an object.")
    scan["destination"] = raw.get("destination") or ""
    vehicle = raw.get("vehicle")
    if vehicle:
        if not isinstance(vehicle, dict):
            return client_id, _("vehicle must be an object.")
        try:
            vehicle = {
                "client_id": str(uuid.UUID(str(vehicle.get("client_id", "")))),
                "plate": normalise_plate(str(vehicle.get("plate") or "")),
                "kind": vehicle.get("kind") or VehicleCheck.Kind.CAR,
            }
        except ValueError:
            return client_id, _("vehicle.client_id must be a UUID.")
        except ValidationError as exc:
            return client_id, exc.messages[0]
        if vehicle["kind"] not in VehicleCheck.Kind.values:
            return client_id, _("Unknown vehicle kind.")
    scan["vehicle"] = vehicle or None
    return scan, None


def _resolve(user, scan, checkpoint, destination, charged=False):
    """The scan's person: by personal code, by a registered ID number, or registered now as a
    person from elsewhere (name and number given, filed under the destination). (person, created).
    `charged`: the batch has charged the number's lookup already."""
    given = scan["person"]
    if given.get("token"):
        pk = _token_pk(given["token"])
        person = Person.objects.select_related("area", "household__area").filter(pk=pk).first()
        if person is None:
            raise ValidationError(_("No such person in your area."))
        return person.merged_into or person, False
    if given.get("id"):
        person = Person.objects.restrict(user, "view").filter(pk=_person_id(given["id"])).first()
        if person is None:
            raise ValidationError(_("No such person in your area."))
        return person.merged_into or person, False
    text = given.get("code") or given.get("doc_number") or ""
    if not text:
        raise ValidationError(_("Scan the resident ID or the personal code."))
    person = find_person(user, text, charge=not charged)
    if person is not None:
        return person, False
    name = str(given.get("name") or "").strip()
    if not name:
        raise ValidationError(_("Not registered: give the name to register the person."), code="unregistered")
    area = destination or checkpoint.area
    new = Person(
        name=name[:64],
        doc_type=DocumentType.RESIDENT_ID,
        doc_number=text,
        phone=str(given.get("phone") or ""),
        area=area,
        residence_type=ResidenceType.MIGRANT,
        notes=_("Registered at checkpoint %(name)s.") % {"name": checkpoint.name},
    )
    new.clean()
    try:
        with transaction.atomic():
            new.save()
    except IntegrityError:
        return people.find_by_document(new.doc_type, new.doc_number), False
    return new, True


def _token_pk(token):
    try:
        return signing.loads(str(token), salt=TOKEN_SALT, max_age=TOKEN_HOURS * 3600)
    except signing.BadSignature:
        raise ValidationError(_("The check at the gate has expired: scan the person again.")) from None


def _person_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("No such person in your area.")) from None


def _destination(scan):
    code = scan.get("destination")
    if not code:
        return None
    return Area.objects.filter(code=code).first()


def _refused(client_id, exc):
    messages = getattr(exc, "messages", None) or [str(exc)]
    return {"client_id": client_id, "outcome": REFUSED, "message": " ".join(messages)}


def record(user, scans, now=None, posts=None):
    """Take a batch of passages (the gate's queue, the batch API); one outcome per scan, in order.
    A client id seen before is `duplicate` and changes nothing (a retry, a phone syncing its queue
    twice); a refused scan says why and writes nothing. An override of the suggestion needs a
    reason, except for scans made offline (kept as decided, the override listed for review).
    `posts` ({id: checkpoint}) is for the system (the demo, the bench): the checkpoints it records
    at without a post of its own.

    Set-based (decision 0027, addendum): the batch's persons, their open entries and latest results
    are read together, its ID numbers charged as lookups in one go, its passages written with one
    INSERT and one change-log write. A scan that writes more than its passage (a person registered
    at the gate, a vehicle, an arrival put in the ledger), a person merged into another, a client id
    repeated in the batch or a lookup limit reached takes the one-by-one way, after the others."""
    if not isinstance(scans, list):
        raise BatchError(_("scans must be a list."))
    if len(scans) > MAX_BATCH:
        raise BatchError(_("At most %(n)d scans per batch.") % {"n": MAX_BATCH})
    now = now or timezone.now()
    parsed = [_parse(raw, now) for raw in scans]
    ids = {scan["checkpoint"] for scan, error in parsed if error is None}
    posts = posts if posts is not None else postable_checkpoints(user, ids)
    known = known_client_ids([s["client_id"] for s, e in parsed if e is None])
    outcomes = [None] * len(parsed)
    todo = []
    for index, (scan, error) in enumerate(parsed):
        if error is not None:
            outcomes[index] = {"client_id": scan, "outcome": REFUSED, "message": error}
        elif scan["client_id"] in known:
            outcomes[index] = {
                "client_id": scan["client_id"],
                "outcome": DUPLICATE,
                "message": _("Already received."),
            }
        elif scan["checkpoint"] not in posts:
            outcomes[index] = {
                "client_id": scan["client_id"],
                "outcome": REFUSED,
                "message": _("You are not posted at this checkpoint, or it does not exist."),
            }
        else:
            todo.append((index, scan, posts[scan["checkpoint"]]))
    if not todo:
        return outcomes
    protocol = gate_protocol()
    slow = _record_batch(user, todo, protocol, outcomes, known)
    for index, scan, checkpoint, charged in sorted(slow, key=lambda item: item[0]):
        if scan["client_id"] in known:
            outcomes[index] = {
                "client_id": scan["client_id"],
                "outcome": DUPLICATE,
                "message": _("Already received."),
            }
            continue
        try:
            passage, created = _record_one(user, scan, checkpoint, protocol, charged)
        except (ValidationError, PermissionDenied) as exc:
            outcomes[index] = _refused(scan["client_id"], exc)
            continue
        known.add(scan["client_id"])
        outcomes[index] = _accepted(scan, passage, created)
    return outcomes


def known_client_ids(client_ids):
    """The ones among `client_ids` (canonical text) already recorded. On PostgreSQL one statement
    whatever their number (an array parameter), kept prepared: every gate scan asks."""
    if not client_ids:
        return set()
    qn, field = connection.ops.quote_name, Passage._meta.get_field("client_id")
    values = [field.get_db_prep_value(uuid.UUID(c), connection) for c in client_ids]
    select = f"SELECT {qn(field.column)} FROM {qn(Passage._meta.db_table)} WHERE {qn(field.column)}"
    if connection.vendor == "postgresql":
        sql, params = f"{select} = ANY(%s)", [values]
    else:
        sql, params = f"{select} IN ({', '.join(['%s'] * len(values))})", values
    with statement_cursor() as cursor:
        cursor.execute(sql, params)
        return {str(field.to_python(row[0])) for row in cursor.fetchall()}


def _accepted(scan, passage, created=True):
    return {
        "client_id": scan["client_id"],
        "outcome": ACCEPTED if created else DUPLICATE,
        "passage": passage.pk,
        "decision": passage.decision,
        "suggested": passage.suggested,
        "handed_to": passage.handed_to.name if passage.handed_to_id else None,
    }


def _record_batch(user, todo, protocol, outcomes, known):
    """The batch's common case in a few statements: fills `outcomes` and `known` for the scans it
    records or refuses, returns the others [(index, scan, checkpoint, lookup charged)] for
    `_record_one`."""
    slow, named, seen, held_keys = [], [], set(), set()
    # 1. How each scan names its person (nothing read yet).
    for index, scan, checkpoint in todo:
        given = scan["person"]
        key = tuple(str(given.get(k) or "") for k in ("token", "id", "code", "doc_number"))
        if scan["client_id"] in seen or scan["vehicle"] or key in held_keys:
            slow.append((index, scan, checkpoint, False))
            if scan["vehicle"] and _may_enter_ledger(scan, checkpoint):
                held_keys.add(key)  # their later scans must see the entry it may make
            continue
        seen.add(scan["client_id"])
        try:
            if given.get("token"):
                named.append((index, scan, checkpoint, "pk", _token_pk(given["token"])))
            elif given.get("id"):
                named.append((index, scan, checkpoint, "id", _person_id(given["id"])))
            else:
                raw = "".join(str(given.get("code") or given.get("doc_number") or "").split())
                if not raw:
                    raise ValidationError(_("Scan the resident ID or the personal code."))
                if raw.startswith(codes.PREFIX):
                    named.append((index, scan, checkpoint, "code", raw))
                else:
                    number = identity.normalise_document(DocumentType.RESIDENT_ID, raw)
                    named.append((index, scan, checkpoint, "doc", number))
        except ValidationError as exc:
            outcomes[index] = _refused(scan["client_id"], exc)
    if not named:
        return slow
    # 2. The ID numbers are exact lookups (decision 0015), charged together; near the limit each
    # scan is charged on its own way (those within the limit pass, the rest are refused).
    numbers = [key for _i, _s, _c, how, key in named if how == "doc"]
    if numbers:
        try:
            people.charge_lookups(user, numbers, limits=settings.EPIGRID_GATE_LOOKUP_LIMITS)
        except people.LookupLimitReached:
            slow += [(i, s, c, False) for i, s, c, how, _k in named if how == "doc"]
            named = [item for item in named if item[3] != "doc"]
    # 3. The persons with their open entries and latest results: one query (codes and ids in the
    # user's scope one more each, when the batch has any).
    texts = [key for *_rest, how, key in named if how == "code"]
    by_code = codes.read_codes(texts) if texts else {}
    visible = set()
    ids = [key for *_rest, how, key in named if how == "id"]
    if ids:
        visible = set(Person.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", flat=True))
    pks = {key for *_rest, how, key in named if how in ("pk", "id")}
    pks |= {p.pk for p in by_code.values() if isinstance(p, Person)}
    docs = [key for *_rest, how, key in named if how == "doc"]
    rows = gate_persons_by(pks=sorted(pks), docs=docs) if pks or docs else []
    by_pk = {p.pk: p for p in rows}
    by_doc = {p.doc_number: p for p in rows if p.doc_type == DocumentType.RESIDENT_ID}
    found = []
    for index, scan, checkpoint, how, key in named:
        try:
            if how == "code":
                person = by_code[key]
                if isinstance(person, ValidationError):
                    raise person
                person = by_pk.get(person.pk)
            elif how == "id" and key not in visible:
                raise ValidationError(_("No such person in your area."))
            else:
                person = by_doc.get(key) if how == "doc" else by_pk.get(key)
                if person is None and how != "doc":
                    raise ValidationError(_("No such person in your area."))
        except ValidationError as exc:
            outcomes[index] = _refused(scan["client_id"], exc)
            continue
        if person is None or person.merged_into_id:
            # Not registered (registered at the gate, or refused) or merged: one by one.
            slow.append((index, scan, checkpoint, how == "doc"))
            continue
        found.append((index, scan, checkpoint, person, how == "doc"))
    # 4. Assess and decide each; the arrivals the ledger takes, one by one.
    facts = gather_facts([person for _i, _s, _c, person, _d in found])
    codes_wanted = {scan["destination"] for _i, scan, *_rest in found if scan.get("destination")}
    destinations = {a.code: a for a in Area.objects.filter(code__in=codes_wanted)} if codes_wanted else {}
    passages, made, held = [], [], set()
    for index, scan, checkpoint, person, doc in found:
        if person.pk in held:  # an earlier scan of theirs writes to the ledger first
            slow.append((index, scan, checkpoint, doc))
            continue
        destination = destinations.get(scan.get("destination"))
        assessment = assess(
            person,
            checkpoint,
            scan["direction"],
            origin_risk=scan["origin_risk"],
            health_code=scan["health_code"],
            temperature=scan["temperature"],
            at=scan["at"],
            protocol=protocol,
            facts=facts[person.pk],
        )
        try:
            passage = _passage(user, scan, checkpoint, person, assessment, destination, None)
        except ValidationError as exc:
            outcomes[index] = _refused(scan["client_id"], exc)
            continue
        if _hands_over(passage, assessment) and assessment.arrival_traced:
            held.add(person.pk)
            slow.append((index, scan, checkpoint, doc))
            continue
        passages.append(passage)
        made.append((index, scan, doc))
    if not passages:
        return slow
    try:
        # A gate's usual batch of one: one statement, no transaction round trips around it.
        insert_logged(passages)
    except IntegrityError:
        # A client id sent at the same moment by another request: one by one, the first one stands.
        return slow + [
            (index, scan, passage.checkpoint, doc)
            for (index, scan, doc), passage in zip(made, passages, strict=True)
        ]
    for (index, scan, _doc), passage in zip(made, passages, strict=True):
        known.add(scan["client_id"])
        outcomes[index] = _accepted(scan, passage)
    return slow


def _may_enter_ledger(scan, checkpoint):
    return (
        scan["direction"] == Direction.IN and checkpoint.is_entry and scan["origin_risk"] in ARRIVAL_CATEGORY
    )


def _hands_over(passage, assessment):
    return passage.decision in (Decision.PASS, Decision.COMMUNITY, Decision.TESTING) and bool(
        assessment.arrival_category
    )


def _passage(user, scan, checkpoint, person, found, destination, vehicle):
    """The passage the scan records (not saved): the decision checked against the suggestion, an
    arrival the protocol no longer traces handed over as a registration."""
    decision = scan["decision"] or found.suggested
    findings = list(found.findings)
    if decision != found.suggested:
        if not scan["reason"] and not scan["offline"]:
            raise ValidationError(
                _("The rules suggest “%(s)s”: give the reason to decide otherwise.")
                % {"s": Decision(found.suggested).label},
                code="override",
            )
        findings.append(
            {"code": "override", "decision": decision, "message": scan["reason"] or _("Decided offline.")}
        )
    passage = Passage(
        checkpoint=checkpoint,
        client_id=scan["client_id"],
        at=scan["at"],
        direction=scan["direction"],
        person=person,
        vehicle=vehicle,
        origin=scan["origin"],
        origin_risk=scan["origin_risk"],
        destination=destination,
        temperature=scan["temperature"],
        health_code=scan["health_code"],
        suggested=found.suggested,
        findings=findings,
        decision=decision,
        reason=scan["reason"],
        recorded_by=user,
    )
    if _hands_over(passage, found) and not found.arrival_traced:
        _hand_over(passage, person, found, vehicle, destination, scan)
    return passage


def _record_one(user, scan, checkpoint, protocol, charged=False):
    try:
        return _record_new(user, scan, checkpoint, protocol, charged), True
    except IntegrityError:  # the same client id, sent twice at once: the first one stands
        return Passage.objects.get(client_id=scan["client_id"]), False


def _record_new(user, scan, checkpoint, protocol, charged=False):
    # One transaction, no savepoint around the insert: a duplicate client id rolls it all back
    # (a person registered on the way too) and the caller answers with the first passage.
    with transaction.atomic():
        # Once per scan: the new person's area and the hand-over both need it.
        destination = _destination(scan)
        person, _created = _resolve(user, scan, checkpoint, destination, charged)
        found = assess(
            person,
            checkpoint,
            scan["direction"],
            origin_risk=scan["origin_risk"],
            health_code=scan["health_code"],
            temperature=scan["temperature"],
            at=scan["at"],
            protocol=protocol,
        )
        vehicle = None
        if scan["vehicle"]:
            vehicle, _new = VehicleCheck.objects.get_or_create(
                client_id=scan["vehicle"]["client_id"],
                defaults={
                    "checkpoint": checkpoint,
                    "at": scan["at"],
                    "direction": scan["direction"],
                    "plate": scan["vehicle"]["plate"],
                    "kind": scan["vehicle"]["kind"],
                    "origin": scan["origin"],
                    "recorded_by": user,
                },
            )
        passage = _passage(user, scan, checkpoint, person, found, destination, vehicle)
        if _hands_over(passage, found) and found.arrival_traced:
            _hand_over(passage, person, found, vehicle, destination, scan)
        passage.save()
    return passage


def _hand_over(passage, person, found, vehicle, destination, scan):
    """An arrival goes to the community of their destination (or of their home): into the ledger when
    the protocol still manages the category, otherwise as an outsider's registration to receive."""
    area = destination or person.area
    if person.area_id and person.area.path.startswith(area.path):
        area = person.area  # a resident coming home: their own grid takes them over
    passage.handed_to = area
    if not found.arrival_traced:
        return
    entry, _created = control.register_key_person(
        person,
        found.arrival_category,
        area,
        source="checkpoint",
        arrival=timezone.localdate(scan["at"]),
        origin=scan["origin"][:100],
        transport=(vehicle.plate if vehicle else "")[:100],
    )
    passage.key_person = entry


def receive(user, passage):
    """The community has the arrival in hand (visited, registered, told the rules). Again: no change."""
    if passage.handed_to_id is None:
        raise ValidationError(_("This passage was not handed to a community."))
    if not may_receive(user, passage):
        raise PermissionDenied(_("This arrival was handed to another area."))
    with transaction.atomic():
        passage = Passage.objects.select_for_update().get(pk=passage.pk)
        if passage.received_at is None:
            passage.received_at = timezone.now()
            passage.received_by = user
            passage.save(update_fields=["received_at", "received_by"])
    return passage


def may_receive(user, passage):
    """Whether `user` may change key-person entries where the arrival was handed."""
    return may_at(user, "control.change_keyperson", passage.handed_to)


def arrivals_to_receive(user, area=None):
    """Arrivals handed to areas where `user` may change key-person entries, not yet received."""
    paths = user.scope_paths("control.change_keyperson")
    rows = Passage.objects.filter(handed_to__isnull=False, received_at__isnull=True)
    if paths is not None:
        if not paths:
            return rows.none()
        q = Q()
        for path in paths:
            q |= Q(handed_to__path__startswith=path)
        rows = rows.filter(q)
    if area is not None:
        rows = rows.filter(handed_to__path__startswith=area.path)
    return rows.select_related("person", "checkpoint", "handed_to", "key_person").order_by("at")
