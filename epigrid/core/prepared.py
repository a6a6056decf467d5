"""A queryset whose SQL is built once per process and then run with other values (decision 0041).

The ORM builds a query's SQL anew for every run, and for a query with correlated subqueries that
takes longer than the database takes to answer it: the gate's person with their open key-person
entry and latest result cost about 1.5 ms of a scan's CPU to put together. `Prepared` builds the
queryset once for each shape of its values (how many values in each list), with marker values in
their places, keeps the SQL and the compiler, and afterwards only puts the new values in the
markers' places. The SQL text stays the same, so PostgreSQL prepares it once per connection
(`statement_cursor`, with server-side binding) and plans it once. The rows become model instances
the way the ORM makes them (`ModelIterable`): the select_related objects and the annotations
included.

Only for querysets whose SQL depends on nothing but the values given (no time, no user): the
kept SQL is the one built first.
"""

import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import get_related_populators

_INTEGER_TYPES = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField"}


@dataclass
class _Plan:
    sql: str
    params: list
    positions: dict  # list name -> [parameter index of each value, in order]
    compiler: object
    start: int
    end: int
    init_list: list
    populators: list
    annotations: dict
    trim: int | None


class Prepared:
    def __init__(self, build, **fields):
        """`build(**lists)` returns the queryset for the given lists of values; `fields` names, for
        each list, the model field its values are compared with (their database form is that
        field's). The lists may be empty."""
        self.build = build
        self.fields = fields
        self._plans = {}
        self._lock = threading.Lock()

    def __call__(self, using="default", **lists):
        """Model instances, as list(build(**lists)) would give them."""
        shape = tuple(len(lists[name]) for name in self.fields)
        plan = self._plans.get((using, shape))
        if plan is None:
            plan = self._plan(using, shape)
        if plan is False:  # the lists match nothing whatever their values (all empty, say)
            return []
        connection = connections[using]
        params = list(plan.params)
        for name, positions in plan.positions.items():
            field = self.fields[name]
            for position, value in zip(positions, lists[name], strict=True):
                params[position] = field.get_db_prep_value(value, connection, prepared=False)
        with statement_cursor(using) as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        if plan.trim is not None:
            rows = [row[: plan.trim] for row in rows]
        out = []
        for row in plan.compiler.results_iter([rows]):
            obj = plan.compiler.query.model.from_db(using, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, obj)
            for name, position in plan.annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out

    def _plan(self, using, shape):
        with self._lock:
            plan = self._plans.get((using, shape))
            if plan is not None:
                return plan
            connection = connections[using]
            markers = {
                name: [self._marker(field, i) for i in range(count)]
                for (name, field), count in zip(self.fields.items(), shape, strict=True)
            }
            queryset = self.build(**markers)
            compiler = queryset.query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                self._plans[(using, shape)] = False
                return False
            params = list(params)
            positions = {}
            for name, values in markers.items():
                field = self.fields[name]
                found = []
                for value in values:
                    db_value = field.get_db_prep_value(value, connection, prepared=False)
                    places = [i for i, param in enumerate(params) if param == db_value]
                    if len(places) != 1:
                        raise ValueError(f"Prepared: a value of {name!r} is not once in the query's parameters")
                    found.append(places[0])
                positions[name] = found
            select, klass_info = compiler.select, compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            plan = _Plan(
                sql=sql,
                params=params,
                positions=positions,
                compiler=compiler,
                start=start,
                end=end,
                init_list=[column[0].target.attname for column in select[start:end]],
                populators=get_related_populators(klass_info, select, using),
                annotations=dict(compiler.annotation_col_map),
                trim=compiler.col_count if compiler.has_extra_select else None,
            )
            self._plans[(using, shape)] = plan
            return plan

    @staticmethod
    def _marker(field, index):
        # A value of the field's kind that no query parameter equals by chance.
        if field.get_internal_type() in _INTEGER_TYPES:
            return -(7_000_000_000_000 + uuid.uuid4().int % 1_000_000_000 * 1000 + index)
        if field.get_internal_type() == "UUIDField":
            return uuid.uuid4()
        return f"\x1fmarker-{index}-{uuid.uuid4().hex}"


class _Prepare:
    """A psycopg cursor whose statements are prepared from their first run."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        return self._cursor.execute(sql, params, prepare=True)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@contextmanager
def statement_cursor(using="default"):
    """A cursor for a statement every request of a busy endpoint runs: with server-side binding
    (settings, PostgreSQL) PostgreSQL prepares it and plans it once per connection; elsewhere an
    ordinary cursor. Only for statements whose plan does not depend on the values (a key, an
    equality): a prepared statement may be run with a generic plan."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("server_side_binding"):
            cursor.cursor = _Prepare(cursor.cursor)
        yield cursor


_inserts = {}


def _insert_fields(meta, with_keys=False):
    """The fields an INSERT of new objects names: nothing generated, the key only when given."""
    return [f for f in meta.concrete_fields if not getattr(f, "generated", False) and (with_keys or not f.primary_key)]


def _insert_values(fields, obj, connection):
    """`obj`'s values for those fields in their database form, as bulk_create prepares them
    (auto_now fields filled on the object, related objects' keys taken)."""
    obj._prepare_related_fields_for_save(operation_name="bulk_create")
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _stored(obj, key, using):
    setattr(obj, obj._meta.pk.attname, key)
    obj._state.adding = False
    obj._state.db = using


def insert_rows(model, objs, using="default"):
    """New objects of `model` INSERTed as bulk_create would (no save(), no signals; auto_now fields
    filled, keys set from RETURNING), with the statement's text built once per model and row count
    and prepared by PostgreSQL (`statement_cursor`). For the few rows of a busy endpoint's request
    (a gate's passage, its change-log row, its lookup row): bulk_create builds the same INSERT
    anew each time, which took longer than the database took to run it. Objects either all carry
    their keys or none does."""
    connection = connections[using]
    meta = model._meta
    with_keys = getattr(objs[0], meta.pk.attname) is not None
    if any((getattr(obj, meta.pk.attname) is not None) != with_keys for obj in objs):
        raise ValueError("insert_rows: give every object its key, or none")
    fields = _insert_fields(meta, with_keys)
    key = (model, len(objs), with_keys, using)
    sql = _inserts.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES {', '.join([row] * len(objs))} RETURNING {qn(meta.pk.column)}"
        )
        _inserts[key] = sql
    params = [value for obj in objs for value in _insert_values(fields, obj, connection)]
    with statement_cursor(using) as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    for obj, (pk,) in zip(objs, keys, strict=True):
        _stored(obj, pk, using)
    return objs


_linked = {}


def insert_linked(obj, make_follower, key_field, json_field, using="default"):
    """A new `obj` and a new row that refers to it by key (its change-log row) INSERTed in one
    statement on PostgreSQL: `make_follower(obj)`, called once `obj`'s values are filled in, gives
    that row; its `key_field` and the "<key>" entry of its JSON field `json_field` take the key
    `obj` gets. One statement is atomic by itself, so the pair needs no transaction round trips
    (BEGIN, COMMIT) around it; a gate's scan is this pair. Its text is built once per pair of
    models and prepared (`statement_cursor`). Keys of both are set; returns the follower."""
    connection = connections[using]
    meta = obj._meta
    fields = _insert_fields(meta)
    params = _insert_values(fields, obj, connection)
    follower = make_follower(obj)
    fmeta = follower._meta
    ffields = [f for f in _insert_fields(fmeta) if f.attname != key_field]
    key = (type(obj), type(follower), key_field, json_field, using)
    sql = _linked.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        pk = qn(meta.pk.column)
        selected = [
            f"jsonb_set(%s, '{{{meta.pk.attname}}}', to_jsonb(new.{pk}))" if f.attname == json_field else "%s"
            for f in ffields
        ]
        key_column = qn(fmeta.get_field(key_field).column)
        sql = (
            f"WITH new AS (INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {pk}) "
            f"INSERT INTO {qn(fmeta.db_table)} ({', '.join(qn(f.column) for f in ffields)}, {key_column}) "
            f"SELECT {', '.join(selected)}, new.{pk} FROM new "
            f"RETURNING {key_column}, {qn(fmeta.pk.column)}"
        )
        _linked[key] = sql
    params += _insert_values(ffields, follower, connection)
    with statement_cursor(using) as cursor:
        cursor.execute(sql, params)
        obj_key, follower_key = cursor.fetchone()
    _stored(obj, obj_key, using)
    _stored(follower, follower_key, using)
    setattr(follower, key_field, obj_key)
    data = getattr(follower, json_field)
    if isinstance(data, dict):
        data[meta.pk.attname] = obj_key
    return follower


_conditional = {}


def insert_row_if(obj, condition, params, using="default"):
    """A new `obj` INSERTed only where the SQL `condition` (with its `params`) holds, decided in
    the same statement: `INSERT … SELECT <values> WHERE <condition> RETURNING <key>`. True when it
    was written (its key set). For a check and its write in one round trip (a lookup counted
    against its limit and logged); the statement's text is kept per model and condition and
    prepared on PostgreSQL (`statement_cursor`), whose parameter types follow the columns'."""
    connection = connections[using]
    meta = obj._meta
    fields = _insert_fields(meta)
    # SQLite before 3.35 (Django supports 3.31) has no RETURNING: the row count says it instead.
    returning = connection.features.can_return_rows_from_bulk_insert
    key = (type(obj), condition, returning, using)
    sql = _conditional.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"SELECT {', '.join(['%s'] * len(fields))} WHERE {condition}"
        ) + (f" RETURNING {qn(meta.pk.column)}" if returning else "")
        _conditional[key] = sql
    with statement_cursor(using) as cursor:
        cursor.execute(sql, _insert_values(fields, obj, connection) + list(params))
        row = cursor.fetchone() if returning else None
        written = row is not None if returning else cursor.rowcount == 1
    if written:
        _stored(obj, row[0] if row else None, using)
    return written
