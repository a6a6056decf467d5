import json
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts.roles import ROLES
from epigrid.demo import builder, data
from epigrid.people.models import Tag


def _width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = (
        "Build a deterministic synthetic district (兰州市 › 城关区: streets, communities, grids, buildings, "
        "households, residents) with one demo user per role, key persons at every stage under the active "
        "protocol (steps, check-ins, tests, history), risk zones, a finished and a running mass-testing round "
        "(points, desks, tubes, samples, exemptions, sweeps, home sampling, unregistered finds) and a few "
        "finished import and export jobs, "
        "and print the demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents", type=int, default=20000, help="number of residents (default 20000)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed: same seed, same data (default 1)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="if any area exists, build nothing and only print the demo logins",
        )
        parser.add_argument(
            "--batch-size", type=int, default=builder.BATCH_SIZE, help="persons per bulk insert batch"
        )

    def handle(self, *args, **options):
        residents, seed, batch_size = options["residents"], options["seed"], options["batch_size"]
        if residents < 0:
            raise CommandError("--residents must not be negative")
        if batch_size < 1:
            raise CommandError("--batch-size must be positive")
        if builder.database_is_empty():
            verbose = options["verbosity"] >= 1
            progress = self._progress if verbose else None
            try:
                result = builder.build_demo(residents, seed, batch_size=batch_size, progress=progress)
            except builder.DemoError as exc:
                raise CommandError(str(exc)) from None
            if verbose:  # where a slow build spends its time
                steps = " · ".join(f"{name} {seconds:.1f}" for name, seconds in result.stages.items())
                self.stderr.write(f"demo: seconds by step: {steps}")
        elif options["if_empty"]:
            result = builder.existing_demo()
        else:
            raise CommandError(
                "The database already holds areas; the demo builds only into an empty database. "
                "Use --if-empty to just print the demo logins, or start from an empty database."
            )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self._print_text(result)

    def _print_modules(self, counts):
        out = self.stdout.write
        control, jobs = counts.get("control"), counts.get("jobs") or {}
        if control:
            stages = " · ".join(f"{stage.replace('_', ' ')} {n:,}" for stage, n in control["stages"].items())
            out(f"  {control['key_persons']:,} key persons: {stages}")
            out(
                f"  {control['measures']:,} steps · {control['checkins']:,} check-ins "
                f"({control['fevers']:,} fevers, {control['fevers_today']:,} today) · "
                f"{control['tests']:,} tests taken"
            )
            lists = " · ".join(f"{name.replace('_', ' ')} {n:,}" for name, n in control["work_lists"].items())
            out(
                f"  today's work lists (key persons): {lists}; {control['abnormal_to_handle']:,} readings to handle"
            )
            handovers = " · ".join(f"{status} {n:,}" for status, n in control["handovers"].items())
            out(f"  hand-overs: {handovers}")
            levels = " · ".join(f"{level} {n:,}" for level, n in control["zone_levels"].items())
            out(f"  {control['zones']:,} zones: {levels} ({control['zones_lifting']:,} lifting in progress)")
        for rnd in (counts.get("testing") or {}).get("rounds", []):
            tubes = " · ".join(f"{status} {n:,}" for status, n in rnd["tubes"].items())
            finds = " · ".join(f"{status} {n:,}" for status, n in rnd["finds"].items())
            out(
                f"  {rnd['name']} ({rnd['status']}): coverage {rnd['coverage']}% "
                f"({rnd['sampled']:,} of {rnd['expected']:,}, {rnd['exempt']:,} exempt, {rnd['missed']:,} missed) · "
                f"{rnd['points']:,} points · {rnd['samples']:,} samples · tubes {tubes} · finds {finds}"
            )
        transport = counts.get("transport")
        if transport:
            boxes = " · ".join(f"{status.replace('_', ' ')} {n:,}" for status, n in transport["boxes"].items())
            out(
                f"  transport: {transport['labs']:,} labs · boxes {boxes} ({transport['received_late']:,} late, "
                f"{transport['with_missing_tubes']:,} with a missing tube)"
            )
        results = counts.get("results")
        if results:
            by_result = " · ".join(f"{r.replace('_', ' ')} {n:,}" for r, n in results["by_result"].items())
            out(f"  lab results: {by_result} ({results['late']:,} late, {results['corrections']:,} corrected)")
        retests = counts.get("retests")
        if retests:
            tasks = " · ".join(f"{status} {n:,}" for status, n in sorted(retests["tasks"].items()))
            out(f"  pooled-positive and invalid follow-ups: {sum(retests['follow_ups'].values()):,} · tasks {tasks}")
            proposals = " · ".join(f"{status} {n:,}" for status, n in sorted(retests.get("proposals", {}).items()))
            if proposals:
                out(f"  risk-zone proposals for the street: {proposals}")
        antigen = counts.get("antigen")
        if antigen:
            reports = " · ".join(f"{r} {n:,}" for r, n in antigen["reports"].items())
            out(
                f"  antigen: {antigen['kits']:,} kits to {antigen['households_with_kits']:,} households · "
                f"reports {reports}"
            )
        isolation = counts.get("isolation")
        if isolation:
            stays = " · ".join(f"{s.replace('_', ' ')} {n:,}" for s, n in isolation["stays"].items())
            out(f"  isolation: {isolation['sites']} sites, {isolation['available']:,} places left · {stays}")
        assistance = counts.get("assistance")
        if assistance:
            persons = " · ".join(f"{s.replace('_', ' ')} {n:,}" for s, n in assistance["persons"].items())
            out(f"  assistance requests: {sum(assistance['requests'].values())} ({assistance['overdue']} overdue) · {persons}")
        checkpoints = counts.get("checkpoints")
        if checkpoints:
            decisions = " · ".join(f"{d} {n:,}" for d, n in sorted(checkpoints["decisions"].items()))
            out(
                f"  checkpoints: {checkpoints['checkpoints']} · passages {checkpoints['passages']:,} "
                f"({checkpoints['today']:,} today; {decisions}) · vehicles {checkpoints['vehicles']:,} · "
                f"arrivals to receive {checkpoints['waiting_to_be_received']}"
            )
        tracing = counts.get("tracing")
        if tracing:
            contacts = " · ".join(f"{s} {n:,}" for s, n in sorted(tracing["contacts"].items()))
            out(
                f"  tracing: {tracing['cases']} cases ({tracing['from_contacts']} from known contacts) · contacts "
                f"{contacts} ({tracing['overdue_contacts']} overdue)"
            )
        passes = counts.get("passes")
        if passes:
            uses = " · ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in sorted(passes["uses"].items()))
            out(f"  household passes: {passes['passes']['active']:,} in force · scans {uses} · {passes['out_now']} out now")
        finished = {kind: by_status.get("succeeded", 0) for kind, by_status in jobs.items()}
        out("  finished jobs: " + (" · ".join(f"{kind} {n:,}" for kind, n in finished.items()) or "none"))

    def _progress(self, done, total, seconds):
        self.stderr.write(f"demo: {done:,}/{total:,} residents written ({seconds:.1f} s)")

    def _print_text(self, result):
        out = self.stdout.write
        areas, counts = result.areas, result.counts
        if result.built:
            out(
                f"Demo district built (seed {result.seed}, {result.seconds:.1f} s): "
                f"{data.CITY[1]} {data.CITY[0]} › {data.DISTRICT[1]} {data.DISTRICT[0]}"
            )
        else:
            out("Areas exist already: nothing built.")
        out(
            f"  {len(areas['street'])} streets · {len(areas['community'])} communities · "
            f"{len(areas['grid'])} grids · {counts['buildings']:,} buildings · "
            f"{counts['households']:,} households · {counts['persons']:,} residents"
        )
        if counts["persons"]:
            kinds = counts["residence_types"]
            out(
                f"  registered {kinds['registered']:,} · migrant {kinds['migrant']:,} · "
                f"foreign {kinds['foreign']:,}"
            )
            names = dict(Tag.objects.values_list("code", "name"))
            tags = " · ".join(f"{names.get(code, code)} {n:,}" for code, n in counts["tags"].items())
            out(f"  vulnerable groups: {tags}")
        self._print_modules(counts)
        if result.built:
            out(f"  audit rows written: {counts['audit_rows']:,}")
        out("")
        if not result.users:
            out("No demo users in this database.")
            return
        out(f"Demo logins (the password of every demo user is {data.DEMO_PASSWORD}):")
        area_names = builder.area_names([u["area"] for u in result.users])
        rows = [("username", "role", "area")]
        for user in result.users:
            label = str(ROLES[user["role"]][0]) if user["role"] in ROLES else user["role"]
            rows.append((user["username"], label, f"{user['area']} {area_names.get(user['area'], '')}"))
        widths = [max(_width(row[i]) for row in rows) + 2 for i in range(2)]
        for row in rows:
            out("  " + _pad(row[0], widths[0]) + _pad(row[1], widths[1]) + row[2])
        post = (result.testing or {}).get("sampler")
        if post and post["point"]:
            desks = "、".join(d["name"] for d in post["desks"])
            out(f"  {post['username']} is posted at {post['point']} (desks {desks}) of the running round.")
