import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from epigrid.areas.models import Area
from epigrid.core.context import change_context
from epigrid.core.imports import TableReadError, run_import
from epigrid.jobs.imports import LEDGERS, TARGETS, importable_areas, target_param


class Command(BaseCommand):
    help = (
        "Import a ledger file (xlsx, xls, csv) through the shared pipeline. Exits 0 when the file was "
        "read (even with rejected rows), 2 when it could not be read at all."
    )

    def add_arguments(self, parser):
        parser.add_argument("ledger", choices=sorted(LEDGERS))
        parser.add_argument("file")
        parser.add_argument("--area", help="code of the community or grid the rows go under")
        # Ledgers imported into something other than an area name it by their own option (--lab).
        for param in sorted({t.param for t in TARGETS.values()} - {"area"}):
            parser.add_argument(
                f"--{param}", help=f"code of the {param} the rows go under (e.g. lab-results)"
            )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--user", help="import as this user, within their scope (default: unrestricted)")
        parser.add_argument(
            "--map", action="append", default=[], metavar="HEADER=FIELD", help="map a file column to a field"
        )

    def handle(self, *args, **opts):
        resource_class, _perm = LEDGERS[opts["ledger"]]
        user = self._user(opts["user"])
        param = target_param(opts["ledger"])
        if not opts.get(param):
            raise CommandError(f"the {opts['ledger']} ledger needs --{param} CODE")
        # Without --user, areas are unrestricted; other targets list what the command may use.
        areas = importable_areas(user, opts["ledger"]) if user or param != "area" else Area.objects.all()
        area = areas.filter(code=opts[param]).first()
        if area is None:
            raise CommandError(f"no {param} {opts[param]} in scope")
        mapping = dict(item.split("=", 1) for item in opts["map"] if "=" in item) or None
        try:
            with change_context(user=user, source="import"), open(opts["file"], "rb") as fileobj:
                result = run_import(
                    resource_class(user, area),
                    fileobj,
                    opts["file"],
                    dry_run=opts["dry_run"],
                    mapping_override=mapping,
                )
        except (TableReadError, OSError) as exc:
            self._fail(str(exc), opts["json"])
        self._report(result, opts["json"])

    def _user(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username}") from None

    def _fail(self, message, as_json):
        if as_json:
            self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        else:
            self.stderr.write(f"cannot read the file: {message}")
        sys.exit(2)

    def _report(self, result, as_json):
        data = result.as_dict()
        if as_json:
            self.stdout.write(
                json.dumps(
                    {k: data[k] for k in ("created", "updated", "unchanged", "rejected", "errors")},
                    ensure_ascii=False,
                )
            )
            return
        verb = "would be" if result.dry_run else "were"
        self.stdout.write(
            f"{data['created']} created, {data['updated']} updated, {data['unchanged']} unchanged, "
            f"{data['rejected']} rejected ({verb} written; header on row {data['header_row']})"
        )
        for error in data["errors"][:50]:
            self.stdout.write(f"  row {error['row']} {error['column']}: {error['message']}")
        if data["unknown_columns"]:
            self.stdout.write("ignored columns: " + ", ".join(data["unknown_columns"]))
