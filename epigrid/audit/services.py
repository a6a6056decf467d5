"""Writing audit rows. Signals call `log_change` for ordinary saves; bulk writers, reveals and
merges call these functions directly so nothing escapes the log."""

from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, router, transaction

from epigrid.audit.models import Action, ObjectChange, Transition
from epigrid.core import context
from epigrid.core.imports import bulk_insert
from epigrid.core.prepared import insert_linked, insert_row_if, statement_cursor


def _actor():
    ctx = context.current()
    user = ctx.user
    if user is not None and hasattr(user, "resolve"):
        user = user.resolve()
    return ctx, user


def build_change(obj, action, before=None, after=None, reason=""):
    ctx, user = _actor()
    return ObjectChange(
        user=user,
        user_name=user.get_username() if user else "",
        request_id=ctx.request_id,
        source=ctx.source,
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        area_path=obj.scope_area_path or "",
        prechange_data=before,
        postchange_data=after,
        reason=reason,
    )


def log_change(obj, action, before=None, after=None, reason=""):
    return build_change(obj, action, before, after, reason).save() or None


def write_changes(rows):
    """Store prepared change rows in bulk (COPY on PostgreSQL): a big import logs as many rows
    as it writes objects."""
    bulk_insert(ObjectChange, rows)


def log_bulk_create(objs):
    """Audit rows for objects written with bulk_create / bulk_insert (which send no signals)."""
    write_changes([build_change(o, Action.CREATE, None, o.serialize_for_log()) for o in objs])


def insert_logged(objs, savepoint=True):
    """New objects written with their change-log rows, as bulk_create and log_bulk_create write
    them (no signals). One object on PostgreSQL (a gate's scan) goes in with its row in one
    statement (core.prepared.insert_linked), no transaction round trips around it; otherwise in a
    transaction. A unique key a row breaks raises IntegrityError and writes nothing (inside a
    caller's transaction only this savepoint is undone; a caller whose transaction ends on that
    error anyway passes savepoint=False and saves the savepoint's round trips)."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if len(objs) > 1 or connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias, savepoint=savepoint):
            # bulk_create, not bulk_insert: a broken unique key must come as IntegrityError, which
            # bulk_insert's COPY of a large batch would not raise.
            model.objects.bulk_create(objs)
            log_bulk_create(objs)
        return objs

    def change(new):  # its values filled in, the key still to come (the statement sets it)
        return build_change(new, Action.CREATE, None, new.serialize_for_log())

    inside = connection.in_atomic_block
    with transaction.atomic(using=connection.alias, savepoint=savepoint) if inside else nullcontext():
        insert_linked(objs[0], change, "object_id", "postchange_data", using=connection.alias)
    return objs


def log_bulk_update(objs):
    """Audit rows for objects changed in memory and written with bulk_update."""
    rows = []
    for obj in objs:
        before, after = getattr(obj, "_prechange", None), obj.serialize_for_log()
        if before != after:
            rows.append(build_change(obj, Action.UPDATE, before, after))
        obj.snapshot()
    write_changes(rows)


def log_reveal(obj, fields, reason):
    log_change(obj, Action.REVEAL, after={"fields": list(fields)}, reason=reason)


def log_print(obj, document, revealed=(), reason=""):
    """A document printed from `obj` (a PDF): a reveal of `revealed` fields when it carried them
    in full (with `reason`), an export otherwise."""
    if revealed:
        log_change(obj, Action.REVEAL, after={"document": document, "fields": list(revealed)}, reason=reason)
    else:
        log_change(obj, Action.EXPORT, after={"document": document})


def actor_area_path(user, perm):
    """Where a row about the user's own act (an export, a lookup) is filed: the first area where
    the user holds `perm`, so the auditors and commanders above it see the row."""
    paths = user.scope_paths(perm) if user is not None and user.is_authenticated else []
    return paths[0] if paths else "/"


def log_lookup(model, user, term, refused=False):
    """An exact number lookup by a role that may not reveal; `term` arrives masked."""
    return log_lookups(model, user, [term], refused=refused)[0]


def log_lookups(model, user, terms, refused=False):
    """Exact number lookups (`terms` masked), one row each, written in one statement (a gate's
    batch of ID scans)."""
    rows = _lookup_rows(model, user, terms, refused)
    # A gate's single scan: one kept INSERT on PostgreSQL (core.imports.bulk_insert), no transaction.
    write_changes(rows)
    return rows


def log_lookups_within(model, user, terms, recent, since, per_recent, per_since):
    """Exact number lookups (`terms` masked) logged only if, with them, the user's lookups since
    `recent` stay within `per_recent` and those since `since` within `per_since`; True when logged.
    One number (a gate's scan, a search) is counted and written in one statement; several (a
    synced queue, an import) are counted, then written."""
    if len(terms) > 1:
        used_recent, used_since = _count_lookups_since(user, recent, since)
        if used_recent + len(terms) > per_recent or used_since + len(terms) > per_since:
            return False
        log_lookups(model, user, terms)
        return True
    (row,) = _lookup_rows(model, user, terms, False)
    time, user_id, action, table = _lookup_columns()
    condition = (
        f"EXISTS (SELECT 1 FROM (SELECT COUNT(CASE WHEN {time} >= %s THEN 1 END) AS used_recent, "
        f"COUNT(*) AS used_since FROM {table} WHERE {user_id} = %s AND {action} = %s AND {time} >= %s) "
        "AS used WHERE used.used_recent < %s AND used.used_since < %s)"
    )
    return insert_row_if(row, condition, [recent, user.pk, Action.LOOKUP, since, per_recent, per_since])


def _lookup_columns():
    quote = connection.ops.quote_name
    columns = (quote(ObjectChange._meta.get_field(f).column) for f in ("time", "user", "action"))
    return (*columns, quote(ObjectChange._meta.db_table))


def _lookup_rows(model, user, terms, refused):
    ctx, _user = _actor()
    common = {
        "user": user,
        "user_name": user.get_username(),
        "request_id": ctx.request_id,
        "source": ctx.source,
        "action": Action.LOOKUP_LIMIT if refused else Action.LOOKUP,
        "content_type": ContentType.objects.get_for_model(model),
        "object_id": 0,
        "area_path": actor_area_path(user, f"{model._meta.app_label}.view_{model._meta.model_name}"),
    }
    return [
        ObjectChange(**common, object_repr=term[:200], postchange_data={"term": term, "refused": refused})
        for term in terms
    ]


def _count_lookups_since(user, recent, since):
    """(lookups since `recent`, lookups since `since`) in one query (`recent` after `since`).
    Written as SQL: a gate charges every scan, and the ORM took longer to build this aggregate than
    the database to count it."""
    time, user_id, action, table = _lookup_columns()
    with statement_cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(CASE WHEN {time} >= %s THEN 1 END), COUNT(*) FROM {table} "
            f"WHERE {user_id} = %s AND {action} = %s AND {time} >= %s",
            [recent, user.pk, Action.LOOKUP, since],
        )
        used_recent, used_all = cursor.fetchone()
    return used_recent, used_all


def log_export(model, count, query, unmasked, reason=""):
    """One row per export: what was exported, with which filters, and whether in full. Filed
    under the exporter's area (the export spans their scope), so their auditors see it."""
    ctx, user = _actor()
    ObjectChange.objects.create(
        user=user,
        user_name=user.get_username() if user else "",
        request_id=ctx.request_id,
        source=ctx.source,
        action=Action.REVEAL if unmasked else Action.EXPORT,
        content_type=ContentType.objects.get_for_model(model),
        object_id=0,
        object_repr=f"{model._meta.verbose_name_plural} ×{count}"[:200],
        area_path=actor_area_path(user, f"{model._meta.app_label}.view_{model._meta.model_name}"),
        postchange_data={"count": count, "filters": query, "unmasked": unmasked},
        reason=reason,
    )


def log_transition(obj, source, target, note=""):
    ctx, user = _actor()
    Transition.objects.create(
        user=user,
        user_name=user.get_username() if user else "",
        request_id=ctx.request_id,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        source=source,
        target=target,
        note=note,
        area_path=obj.scope_area_path or "",
    )


def history(obj):
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
    )
