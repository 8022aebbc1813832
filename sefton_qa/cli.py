"""The command line: ``sefton-qa [--db PATH] [COMMAND]``. With no command it opens the GUI."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from sefton_qa import APP_NAME, __version__
from sefton_qa.domain.errors import SeftonError
from sefton_qa.domain.models import Role
from sefton_qa.paths import resolve_store_path
from sefton_qa.domain.wording import date_text


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'"{text}" is not a date in the form YYYY-MM-DD')


PERIOD_RULE = ("A period of whole calendar months is compared with the same number of whole "
               "months just before it (May-July 2024 with February-April 2024); any other "
               "period with the same number of days just before it.")
TREND_RULE = (" The pack's trend uses the same units, stepping back from the compared period: "
              "12 months for a one-month period, else 8 periods (8 quarters for a quarter), "
              "as far back as there are audits.")


def _add_period(command: argparse.ArgumentParser, *, previous: bool = True) -> None:
    """--from/--to, or --quarter, or --month; and the period to compare with."""
    command.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD",
                         help="the period's first day (with --to)")
    command.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD",
                         help="the period's last day")
    command.add_argument("--quarter", metavar="YYYYQn",
                         help="a calendar quarter instead of --from/--to: 2024Q2 is April to "
                              "June 2024")
    command.add_argument("--month", metavar="YYYY-MM",
                         help="a calendar month instead of --from/--to: 2024-05 is May 2024")
    if previous:
        command.add_argument("--previous-from", dest="previous_start", type=_date,
                             metavar="YYYY-MM-DD",
                             help="the period to compare with, instead of the rule's (see "
                                  "below); the trend then steps back from it")
        command.add_argument("--previous-to", dest="previous_end", type=_date,
                             metavar="YYYY-MM-DD")


def _period_of(args) -> tuple[dt.date, dt.date]:
    """The period the options name, or a ValidationError saying what is missing."""
    from sefton_qa.domain import periods
    from sefton_qa.domain.errors import ValidationError

    given = [name for name, value in (("--from/--to", args.start or args.end),
                                      ("--quarter", args.quarter), ("--month", args.month))
             if value]
    if len(given) != 1:
        raise ValidationError.single("period", "give the period as --from and --to, or "
                                               "--quarter, or --month (one of them)")
    try:
        if args.quarter:
            return periods.quarter_period(args.quarter)
        if args.month:
            return periods.month_period(args.month)
    except periods.PeriodError as exc:
        raise ValidationError.single("period", str(exc)) from None
    if args.start is None or args.end is None:
        raise ValidationError.single("--from/--to", "give both --from and --to")
    return args.start, args.end


def _previous_of(args) -> tuple[dt.date, dt.date] | None:
    from sefton_qa.domain.errors import ValidationError

    if (args.previous_start is None) != (args.previous_end is None):
        raise ValidationError.single("--previous-from/--previous-to",
                                     "give both, or neither for the rule's previous period "
                                     "(the same whole calendar months, or the same number of "
                                     "days, just before)")
    return (args.previous_start, args.previous_end) if args.previous_start else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sefton-qa",
        description=f"{APP_NAME}: case-file audits, moderation and committee packs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation on a temporary store (migrations, an "
                             "audit, the trail, the main window offscreen, a PDF) and exit")
    parser.add_argument("--db", metavar="STORE",
                        help="the store to use: a file, or a PostgreSQL server's address "
                             "(postgresql://HOST/DATABASE, or service=NAME) (default: "
                             "$SEFTON_QA_DB, else a file in the user data folder)")
    # --db is accepted after the command too ("sefton-qa gui --db X"), without overriding a
    # --db given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the store to use")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add_command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    gui = add_command("gui", help="open the main window (the default)")
    gui.add_argument("--demo", action="store_true",
                     help="use the demo store (unless --db is given) and fill it with demo "
                          "data if it holds no audits")

    add_command("init", help="create an empty store, with you (your operating-system "
                             "account) as its administrator")
    demo = add_command("demo", help="fill an empty store with synthetic demo data")
    demo.add_argument("--months", type=int, default=18, help="months of audits (default 18)")
    demo.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")

    summary = add_command("summary", help="a period's figures by grade, area and team")
    summary.epilog = PERIOD_RULE
    _add_period(summary)
    summary.add_argument("--json", action="store_true", help="print JSON")

    imp = add_command("import", help="import audits from a .csv, .xlsx, .ods or .xls file "
                                     "(all or nothing)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true",
                     help="check the whole file and report, without writing anything")
    imp.add_argument("--create-missing", action="store_true",
                     help="create unknown service areas, teams, staff and themes "
                          "(administrators)")
    imp.add_argument("--map", action="append", default=[], metavar="HEADER=FIELD",
                     help="read the file's column HEADER as FIELD (repeatable)")
    imp.add_argument("--problems", metavar="PROBLEMS.csv",
                     help="write the problems found (row, column, problem; the first 1,000) to "
                          "this CSV file, for whoever corrects the file")

    exp = add_command("export", help="export submitted audits to .csv or .xlsx")
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    exp.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD")
    exp.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")

    queue = add_command("queue", help="what is waiting in the moderation loop, by stage")
    queue.add_argument("--overdue", action="store_true", help="only what is overdue")
    queue.add_argument("--json", action="store_true", help="print JSON")

    report = add_command("report", help="build a period's committee pack (PDF, or HTML: "
                                        "its accessible version)")
    report.epilog = PERIOD_RULE + TREND_RULE
    _add_period(report)
    report.add_argument("-o", "--output", metavar="FILE",
                        help="the file to write: FILE.pdf, or FILE.html for the accessible "
                             "version, one self-contained web page (required unless "
                             "--disclosure-audit)")
    report.add_argument("--public", action="store_true",
                        help="the public version: aggregates only, counts from 1 to 4 "
                             "suppressed")
    report.add_argument("--overwrite", action="store_true",
                        help="replace the output file if it exists")
    report.add_argument("--csv-dir", metavar="DIR",
                        help="with --public: also write the pack's tables as CSV files (open "
                             "data) into DIR, \"c\" where the pack hides a figure")
    report.add_argument("--appendix", action="store_true",
                        help="list the period's audits by case reference (internal packs only)")
    report.add_argument("--cover", metavar="FILE.toml",
                        help="the cover report (purpose, recommendations, contact_officer, "
                             "background_papers) as a TOML file; kept for the next pack "
                             "(default: the one used last time)")
    report.add_argument("--disclosure-audit", action="store_true",
                        help="with --public: write no pack, but print each hidden cell's "
                             "possible range, as a reader holding the whole public pack could "
                             "work it out (integer programming)")
    report.add_argument("--json", action="store_true",
                        help="with --disclosure-audit: print JSON")

    verify = add_command("verify", help="check the store's integrity and its audit trail, "
                                        "against every anchor kept outside it")
    verify.add_argument("--anchor", action="append", default=[], metavar="SEQ:HASH",
                        help="also hold the trail to this head, as a committee pack prints it "
                             "(repeatable)")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    add_command("anchors", help="the copies of the trail's head kept outside the store "
                                "(backups, packs, restores), and whether the trail holds to each")
    add_command("info", help="the store's engine, location, schema version and trail head")
    add_command("whoami", help="who the store takes you for: your operating-system account "
                               "and its staff record")
    copy = add_command("copy-store", help="copy a whole store to another engine (a file to a "
                                          "server, or a server to a file), trail included")
    copy.add_argument("source", metavar="SOURCE", help="the store to copy (file or address)")
    copy.add_argument("destination", metavar="DEST",
                      help="a new file, or an empty PostgreSQL database")
    copy.add_argument("--map-logins", metavar="FILE",
                      help="a CSV of account,login: each person's operating-system account "
                           "becomes their database login (every account must be mapped)")

    backup = add_command("backup", help="back up the store now (SQLite's backup API, checked, "
                                        "with a manifest); prints the backup's path")
    backup.add_argument("--folder", metavar="FOLDER",
                        help="where to write it (default: the backup_dir setting, else the "
                             "backups folder beside the store)")
    restore = add_command("restore", help="replace the store with a backup (the current store "
                                          "is backed up first)")
    restore.add_argument("file", metavar="FILE", help="the backup (.sqlite3) to restore")
    restore.add_argument("--yes", action="store_true",
                         help="do not ask for the typed confirmation")
    restore.add_argument("--other-store", action="store_true",
                         help="restore a backup that is not shown to be this store's (another "
                              "store's, or one made before stores had ids); still confirmed")
    add_command("backups", help="list the store's backups with their manifests' counts")

    server = add_command("server", help="set up or upgrade a store on a PostgreSQL server "
                                        "(IT, as the database's owner; docs/SERVER.md)")
    server_sub = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    server_init = server_sub.add_parser("init", help="set up a new store in an empty database: "
                                                     "its roles, schema and first administrator")
    server_init.add_argument("--admin", required=True, metavar="LOGIN",
                             help="the first administrator's own database login")
    server_init.add_argument("--name", metavar="NAME", help="the administrator's full name")
    server_init.add_argument("--from", dest="source", metavar="FILE",
                             help="move a team's store file in (records and the whole trail)")
    server_init.add_argument("--map-logins", metavar="FILE",
                             help="with --from: a CSV of account,login (every account mapped)")
    server_sub.add_parser("migrate", help="bring the store up to this version's schema")

    staff = add_command("staff", help="the staff list: people, their accounts and roles "
                                      "(administrators only)")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    staff_add = staff_sub.add_parser("add", help="add a person with their account (on a server "
                                                 "their database login)")
    staff_add.add_argument("account", metavar="ACCOUNT")
    staff_add.add_argument("--name", required=True, metavar="NAME", help="full name")
    def roles_argument(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--role", action="append", required=True, metavar="ROLE",
                            choices=[r.value for r in Role],
                            help="a role (give --role again for more): "
                                 + ", ".join(r.value for r in Role))

    roles_argument(staff_add)
    staff_add.add_argument("--team", metavar="TEAM", help="the team's name")
    staff_sub.add_parser("list", help="everyone on the staff list")
    set_roles = staff_sub.add_parser("set-roles", help="replace a person's roles")
    set_roles.add_argument("account", metavar="ACCOUNT")
    roles_argument(set_roles)
    deactivate = staff_sub.add_parser("deactivate", help="a person who has left: kept in the "
                                                         "records, can no longer sign in")
    deactivate.add_argument("account", metavar="ACCOUNT")
    _add_sampling_commands(add_command)
    return parser


def _add_quota_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--per-team", type=int, metavar="N",
                         help="N deep dives for every team (or service area) with open cases")
    command.add_argument("--dip-per-team", type=int, default=0, metavar="N",
                         help="with --per-team: also N dip samples each (default 0)")
    command.add_argument("--total", type=int, metavar="N",
                         help="N deep dives in all, shared among teams in proportion to their "
                              "open cases (largest remainder)")
    command.add_argument("--dip-total", type=int, default=0, metavar="N",
                         help="with --total: also N dip samples in all, shared the same way")
    command.add_argument("--plan", dest="plan_file", metavar="FILE",
                         help="quotas by hand: a .csv or .xlsx with a team (or service_area) "
                              "column and deep_dives and/or dip_samples columns")
    command.add_argument("--by", choices=["team", "service_area"], default="team",
                         help="the strata: each team (default) or each service area")
    command.add_argument("--exclude-months", type=int, default=6, metavar="N",
                         help="leave out cases with a submitted audit in the N months before "
                              "the period (default 6)")


def _add_sampling_commands(add_command) -> None:
    """caseload, plan, sample and allocations (issue 19)."""
    caseload = add_command("caseload", help="the open cases, imported from the case-management "
                                            "system as dated snapshots (administrators)")
    caseload_sub = caseload.add_subparsers(dest="caseload_command", metavar="ACTION",
                                           required=True)
    imp = caseload_sub.add_parser("import", help="import a case list (.csv or .xlsx): case "
                                                 "reference, team, case type, open date, "
                                                 "optionally team manager and service area")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--create-missing", action="store_true",
                     help="create teams (and service areas) the store does not know")
    imp.add_argument("--dry-run", action="store_true", help="check the file; write nothing")
    imp.add_argument("--taken-on", type=_date, metavar="YYYY-MM-DD",
                     help="the day the list was exported (default today)")
    listing = caseload_sub.add_parser("list", help="the snapshots, or one snapshot's cases")
    listing.add_argument("--cases", action="store_true",
                         help="list the cases of the latest snapshot (or --snapshot)")
    listing.add_argument("--snapshot", type=int, metavar="ID")
    compare = caseload_sub.add_parser("compare", help="cases opened, closed and moved since the "
                                                      "previous snapshot")
    compare.add_argument("--snapshot", type=int, metavar="ID")
    compare.add_argument("--previous", type=int, metavar="ID")

    plan = add_command("plan", help="audit plans: quotas per team for a period "
                                    "(administrators)")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    create = plan_sub.add_parser("create", help="plan a period from the latest caseload")
    _add_period(create, previous=False)
    _add_quota_options(create)
    create.add_argument("--dry-run", action="store_true",
                        help="show the strata and sizes; write nothing")
    plan_sub.add_parser("list", help="every plan with its quotas")
    progress = plan_sub.add_parser("progress", help="planned, done and overdue by team")
    progress.add_argument("plan_id", type=int, metavar="PLAN")
    cancel = plan_sub.add_parser("cancel", help="cancel a plan (saying why)")
    cancel.add_argument("plan_id", type=int, metavar="PLAN")
    cancel.add_argument("--why", required=True)

    sample = add_command("sample", help="draw a period's random sample (sha256-v1), allocate "
                                        "it; --check recomputes every recorded draw")
    _add_period(sample, previous=False)
    _add_quota_options(sample)
    sample.add_argument("--dry-run", action="store_true",
                        help="show the strata and sizes first; draw and write nothing")
    sample.add_argument("--seed", metavar="S",
                        help="a given seed (demo data and tests), recorded as given; "
                             "otherwise a random one from the operating system")
    sample.add_argument("--no-allocate", action="store_true",
                        help="draw without allocating to auditors")
    sample.add_argument("--check", action="store_true",
                        help="recompute every recorded draw and report any case swapped")
    sample.add_argument("--discard", type=int, metavar="DRAW",
                        help="set a draw aside (with --why); it stays on record")
    sample.add_argument("--why", help="why the draw is discarded")

    alloc = add_command("allocations", help="the allocation list (administrators and service "
                                            "managers), or --mine")
    alloc.add_argument("--mine", action="store_true", help="what is allocated to you")
    alloc.add_argument("--plan", dest="plan_id", type=int, metavar="PLAN")
    alloc.add_argument("--draw", dest="draw_id", type=int, metavar="DRAW")
    alloc.add_argument("--export", metavar="FILE", help="write the list to .csv or .xlsx")
    alloc.add_argument("--overwrite", action="store_true")
    alloc.add_argument("--use-reserve", type=int, metavar="ALLOCATION",
                       help="replace an allocated case by its team's next reserve (with --why)")
    alloc.add_argument("--why", help="why the reserve is used (say, the case closed)")
    alloc.add_argument("--json", action="store_true", help="print JSON")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        from sefton_qa.selftest import run as run_self_test

        return run_self_test()
    command = args.command or "gui"
    try:
        if command == "gui":
            return _gui(args)
        return {"demo": _demo, "summary": _summary, "verify": _verify, "import": _import,
                "export": _export, "queue": _queue, "report": _report, "backup": _backup,
                "restore": _restore, "backups": _backups, "info": _info, "whoami": _whoami, "init": _init, "anchors": _anchors,
                "copy-store": _copy_store, "server": _server, "staff": _staff,
                "caseload": _caseload, "plan": _plan, "sample": _sample,
                "allocations": _allocations}[command](args)
    except SeftonError as exc:
        print(f"sefton-qa: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sefton-qa: interrupted; nothing was left half-written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `sefton-qa queue | head`: the reader stopped early; nothing more to say.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _open(args, *, demo: bool = False, read_only: bool = False, create: bool = True,
          check: bool = False):
    """Open the store; ``check`` (commands that write audits) refuses a store that fails the
    quick check on opening (a trail changed outside the app) before anything is written."""
    from sefton_qa.store import open_store

    return open_store(resolve_store_path(args.db, demo=demo), read_only=read_only,
                      create=create, check=check)


def _gui(args) -> int:
    from sefton_qa.gui.app import run_gui

    demo = getattr(args, "demo", False)
    return run_gui(resolve_store_path(args.db, demo=demo), fill_demo=demo)


def _demo(args) -> int:
    from sefton_qa.services import sign_in
    from sefton_qa.services.demo import generate_demo

    with _open(args, check=True) as store:
        session = sign_in(store)

        def progress(done: int, total: int, message: str) -> None:
            if sys.stderr.isatty():
                print(f"\r{done:3d}%  {message:<60}", end="", file=sys.stderr, flush=True)

        result = generate_demo(session, months=args.months, seed=args.seed, progress=progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(f"Added {result.audits:,} synthetic audits across {result.teams} teams in "
              f"{result.service_areas} service areas, with {result.staff} staff, to "
              f"{store.describe()}")
    return 0


def _summary(args) -> int:
    from sefton_qa.services.summary import period_summary

    start, end = _period_of(args)
    previous = _previous_of(args)
    with _open(args, create=False) as store:
        summary = period_summary(store, start, end, previous)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    from sefton_qa.domain.grades import Grade

    p = summary["period"]
    lines = [f"Audits from {p['from']} to {p['to']}: {summary['total']}", ""]
    prev = summary["previous"]
    header = f"{'Grade':<34}{'Count':>6}{'%':>7}  {'95% interval':<14}"
    if prev:
        header += f"{'Previous':>10}{'%':>7}"
    lines.append(header)
    for key, g in summary["grades"].items():
        low, high = g["ci95"]
        row = (f"{Grade(key).label:<34}{g['count']:>6}{g['percent']:>6.1f}%  "
               f"{f'{low:.1f}–{high:.1f}%':<14}")
        if prev:
            pg = prev["grades"][key]
            row += f"{pg['count']:>10}{pg['percent']:>6.1f}%"
        lines.append(row)
    if prev:
        pp = prev["period"]
        lines.append(f"\nPrevious period {pp['from']} to {pp['to']}: {prev['total']} audits")
    else:
        cw = summary["compared_with"]
        lines.append(f"\nThe previous period, {cw['from']} to {cw['to']}, has no audits.")
    for title, key in (("By service area", "by_service_area"), ("By team", "by_team")):
        rows = summary[key]
        if not rows:
            continue
        grades = list(summary["grades"])
        lines.append(f"\n{title}")
        width = max(len(n) for n in rows) + 2
        lines.append(f"{'':<{width}}" + "".join(f"{Grade(g).short_label:>22}"
                                                  for g in grades))
        for name, counts in rows.items():
            lines.append(f"{name:<{width}}" + "".join(f"{counts[g]:>22}" for g in grades))
    return "\n".join(lines)


def _verify(args) -> int:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services.verify import verify_store
    from sefton_qa.store import anchors

    try:
        given = [anchors.parse(text) for text in args.anchor]
    except ValueError as exc:
        raise ValidationError.single("--anchor", str(exc)) from None
    with _open(args, read_only=True, create=False) as store:
        report = verify_store(store, anchors=given)
        newer = store.newer_version
    if args.json:
        print(json.dumps(dict(report.as_json(), newer_version=newer), indent=2))
        return 0 if report.ok else 1
    if newer:
        print("Note: this store was written by a newer version of Sefton QA; it was checked "
              "read-only, as far as this version understands it.")
    print("\n".join(report.lines()))
    print("The store is sound." if report.ok else "The store FAILED verification.")
    return 0 if report.ok else 1


def _info(args) -> int:
    from sefton_qa.services.copy_store import info

    with _open(args, read_only=True, create=False) as store:
        found = info(store)
    print(f"Engine:       {found.engine}")
    print(f"Location:     {found.location}")
    print(f"Schema:       {found.schema_step or 'none'} ({found.schema_steps} steps"
          f"{'; written by a newer version' if found.newer_version else ''})")
    print(f"Trail head:   row {found.trail_seq:,}, hash {found.trail_hash}")
    return 0


def _init(args) -> int:
    from sefton_qa.domain.errors import StoreError
    from sefton_qa.services import sign_in
    from sefton_qa.store import open_store, staff

    location = resolve_store_path(args.db)
    with open_store(location) as store:
        if staff.count(store.conn) > 0:
            raise StoreError(f"{store.describe()} is already a store with staff; nothing was "
                             "changed.")
        session = sign_in(store)
        print(f"Created an empty store at {store.describe()}. You ({session.os_user}) are its "
              "administrator and a QA officer; add your colleagues under Settings → Staff.")
    return 0


def _whoami(args) -> int:
    from sefton_qa.services import sign_in

    with _open(args, read_only=True, create=False) as store:
        session = sign_in(store)
        roles = ", ".join(r.label for r in session.actor.roles) or "no roles"
        print(f"{session.actor.display_name} (account {session.os_user}): {roles}; "
              f"in {store.describe()}")
    return 0


def _server(args) -> int:
    from sefton_qa.services import server_setup

    location = resolve_store_path(args.db)
    if args.server_command == "init":
        from sefton_qa.services.copy_store import read_login_map

        if args.map_logins and not args.source:
            raise SeftonError("--map-logins goes with --from (the store file being moved in).")
        done = server_setup.init_server(
            str(location), args.admin, admin_name=args.name,
            source=resolve_store_path(args.source) if args.source else None,
            login_map=read_login_map(args.map_logins) if args.map_logins else None)
        print(f"Set up a Sefton QA store in {done.where}: owner role {done.owner_role} (your "
              f"login {done.it_login} is a member, to migrate), users role {done.users_role}; "
              f"{done.administrator} is its first administrator and may add people "
              f"(sefton-qa staff add).")
        return 0
    steps = server_setup.migrate_server(str(location))
    print("Applied " + ", ".join(steps) + "." if steps else "The store is up to date.")
    return 0


def _staff(args) -> int:
    from sefton_qa.domain.errors import NotFound
    from sefton_qa.services import organisation as org
    from sefton_qa.services import server_setup, sign_in

    read_only = args.staff_command == "list"
    with _open(args, read_only=read_only, create=False) as store:
        session = sign_in(store)
        if args.staff_command == "list":
            session.require(Role.ADMINISTRATOR, doing="list the staff")
            teams = {t.id: t.name for t in org.teams(session)}
            for person in org.staff(session):
                roles = ", ".join(r.value for r in sorted(person.roles, key=lambda r: r.value))
                print(f"{person.os_username or '-':<24} {person.display_name:<28} "
                      f"{'active' if person.active else 'inactive':<9} {roles:<40} "
                      f"{teams.get(person.team_id, '')}")
            return 0
        people = {(p.os_username or "").lower(): p for p in org.staff(session)}
        if args.staff_command == "add":
            team_id = None
            if args.team:
                found = [t for t in org.teams(session) if t.name.lower() == args.team.lower()]
                if not found:
                    raise NotFound(f"There is no team called {args.team!r}.")
                team_id = found[0].id
            org.add_staff(session, args.name, os_username=args.account,
                          roles=[Role(r) for r in args.role], team_id=team_id)
            print(f"Added {args.name} ({args.account}): {', '.join(args.role)}.")
            note = server_setup.give_login_access(store, args.account)
            if note:
                print(note)
            return 0
        person = people.get(args.account.lower())
        if person is None:
            raise NotFound(f"Nobody on the staff list has the account {args.account!r}.")
        if args.staff_command == "set-roles":
            org.update_staff(session, person.id, roles=[Role(r) for r in args.role])
            print(f"{person.display_name}: {', '.join(args.role)}.")
        else:
            org.update_staff(session, person.id, active=False)
            print(f"{person.display_name} can no longer sign in; their work stays on record.")
            note = server_setup.give_login_access(store, args.account, grant=False)
            if note:
                print(note)
    return 0


def _copy_store(args) -> int:
    from sefton_qa.services.copy_store import copy_store, read_login_map

    login_map = read_login_map(args.map_logins) if args.map_logins else None

    def progress(table: str, rows: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{table:<26} {rows:>12,} rows", end="", file=sys.stderr, flush=True)

    result = copy_store(resolve_store_path(args.source), resolve_store_path(args.destination),
                        progress=progress, login_map=login_map)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"Copied {result.source} to {result.destination}: "
          f"{result.counts.get('audits', 0):,} audits, {result.counts.get('trail', 0):,} "
          f"trail rows; both verified, the same counts, trail head row {result.trail_seq:,} "
          f"hash {result.trail_hash}."
          + (" Each account now signs in as its mapped login (a trail row each)."
             if login_map else ""))
    return 0


def _must_exist(args) -> None:
    """A command that works on an existing store, given a file that is not there: say how to
    make one (import into nothing is how a team starts from its spreadsheets)."""
    from pathlib import Path

    from sefton_qa.domain.errors import StoreError

    location = resolve_store_path(args.db)
    if isinstance(location, Path) and not location.exists():
        raise StoreError(f"There is no store at {location}. Create one first with: "
                         f"sefton-qa --db {location} init")


def _file_store_only(location, what: str) -> None:
    from sefton_qa.domain.errors import StoreError

    if isinstance(location, str):
        raise StoreError(f"{what} is for a store file. A server store is backed up by IT with "
                         "the server's own backups (pg_dump, point-in-time recovery); for a "
                         "portable copy use: sefton-qa copy-store SERVER FILE")


def _anchors(args) -> int:
    from sefton_qa.services.verify import anchors_report

    with _open(args, read_only=True, create=False) as store:
        lines = anchors_report(store)
    print("\n".join(lines))
    return 0


def _backup(args) -> int:
    from pathlib import Path

    from sefton_qa.services.backups import make_backup

    _file_store_only(resolve_store_path(args.db), "backup")
    with _open(args, create=False) as store:
        path = make_backup(store, Path(args.folder).expanduser() if args.folder else None)
    print(path)
    return 0


def _restore(args) -> int:
    from pathlib import Path

    from sefton_qa.domain.errors import StoreError
    from sefton_qa.services.backups import (
        check_backup,
        other_store_refusal,
        restore,
        why_not_this_stores,
    )

    store_path = resolve_store_path(args.db)
    _file_store_only(store_path, "restore")
    backup_file = Path(args.file).expanduser()
    manifest = check_backup(backup_file)  # refuse a bad backup before asking anything
    why_not = why_not_this_stores(store_path, manifest, backup_file)
    if why_not and not args.other_store:
        raise other_store_refusal(why_not, "give --other-store")
    if not args.yes:
        if not sys.stdin.isatty():
            raise StoreError("restore replaces the whole store; without a terminal to confirm "
                             "on, give --yes. Nothing was changed.")
        print(f"This replaces the store {store_path} with the backup {backup_file} "
              f"(made {manifest.get('created_utc', 'at an unknown time')}, "
              f"{manifest['counts'].get('audits', 0):,} audits, "
              f"{manifest['trail'].get('count', 0):,} trail rows).\n"
              "The current store is backed up first. Close Sefton QA everywhere before going on.")
        if why_not:
            print(f"Note: {why_not}.")
        try:
            answer = input('Type "restore" to go on: ')
        except EOFError:
            answer = ""
        if answer.strip() != "restore":
            print("Nothing was changed.")
            return 1
    result = restore(store_path, backup_file, other_store=args.other_store)
    if result.before_restore and ".damaged-" in result.before_restore.name:
        print(f"The current store was damaged; it was kept, renamed, as {result.before_restore}")
    elif result.before_restore:
        print(f"Backed up the current store to {result.before_restore}")
    print(f"Restored {result.store_path} from {result.restored_from} "
          f"({result.manifest['counts'].get('audits', 0):,} audits, "
          f"{result.manifest['trail'].get('count', 0):,} trail rows); verified.")
    return 0


def _backups(args) -> int:
    from sefton_qa.services.backups import list_backups

    _file_store_only(resolve_store_path(args.db), "backups")
    with _open(args, read_only=True, create=False) as store:
        found = list_backups(store.path, conn=store.conn)
    if not found:
        print("No backups yet.")
        return 0
    for b in found:
        manifest = b.manifest()
        if manifest is None:
            detail = "no manifest"
        else:
            detail = (f"{manifest['counts'].get('audits', 0):,} audits, "
                      f"{manifest['trail'].get('count', 0):,} trail rows")
        print(f"{b.created:%Y-%m-%d %H:%M:%S} UTC  {b.kind:<16} {detail:<34} {b.path}")
    return 0


def _parse_map(pairs: list[str]) -> dict[str, str]:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services.import_export import FIELDS

    mapping = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep or not header.strip() or target.strip() not in FIELDS:
            raise ValidationError.single("--map", f'"{pair}" should be HEADER=FIELD, with FIELD '
                                                  f"one of {', '.join(FIELDS)}")
        mapping[header.strip()] = target.strip()
    return mapping


def _import(args) -> int:
    from sefton_qa.services import sign_in
    from sefton_qa.services.import_export import import_audits, write_problems

    mapping = _parse_map(args.map)
    _must_exist(args)
    with _open(args, create=False, check=True) as store:
        session = sign_in(store)
        report = import_audits(session, args.file, dry_run=args.dry_run,
                               create_missing=args.create_missing, mapping=mapping)
    print("\n".join(report.lines()))
    if args.problems:
        try:
            count = write_problems(report, args.problems)
        except OSError as exc:
            raise SeftonError(f"Could not write {args.problems}: {exc.strerror or exc}") from exc
        print(f"{count:,} problem(s) written to {args.problems}" if count
              else f"No problems: {args.problems} holds only its header row")
    return 0 if report.ok else 1


def _export(args) -> int:
    from sefton_qa.services import sign_in
    from sefton_qa.services.import_export import export_audits

    with _open(args, create=False, check=True) as store:
        session = sign_in(store)
        result = export_audits(session, args.file, date_from=args.start, date_to=args.end,
                               overwrite=args.overwrite)
    print(f"Exported {result.rows:,} audits to {result.path} (SHA-256 {result.sha256})")
    return 0


def _queue(args) -> int:
    from sefton_qa.services import sign_in
    from sefton_qa.services.moderation import queue

    with _open(args, create=False) as store:
        session = sign_in(store)
        items = queue(session, overdue_only=args.overdue)
    if args.json:
        print(json.dumps([{
            "stage": i.stage, "id": i.item_id, "audit_id": i.audit_id,
            "case_reference": i.case_reference, "team": i.team, "detail": i.detail,
            "due_date": i.due_date.isoformat() if i.due_date else None,
            "waiting_days": i.waiting_days, "overdue": i.overdue} for i in items], indent=2))
        return 0
    if not items:
        print("Nothing is overdue." if args.overdue else "Nothing is waiting.")
        return 0
    titles = {"moderation": "Waiting for moderation", "conversation":
              "Waiting for a reflective conversation", "action": "Open remedial actions"}
    for stage, title in titles.items():
        rows = [i for i in items if i.stage == stage]
        if not rows:
            continue
        print(f"{title} ({len(rows)}{', ' + str(sum(r.overdue for r in rows)) + ' overdue'})")
        for i in rows:
            due = date_text(i.due_date, "no date")
            flag = "OVERDUE " if i.overdue else ""
            print(f"  {flag}{i.case_reference:<14} {i.team:<30} due {due}  {i.detail}")
        print()
    return 0


def _disclosure_audit(args, start, end, options) -> int:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services import sign_in
    from sefton_qa.services.reports import disclosure_audit

    if not args.public:
        raise ValidationError.single("--disclosure-audit", "audits the public pack: add "
                                     "--public")
    with _open(args, create=False, check=True) as store:
        rows = disclosure_audit(sign_in(store), start, end, options)
    exposed = [r for r in rows if not r["protected"]]
    if args.json:
        print(json.dumps({"cells": rows, "unprotected": len(exposed)}, indent=2))
    else:
        print(f"{len(rows)} hidden cells; {len(exposed)} a reader could narrow to fewer than "
              "3 values or to counts from 1 to 4.")
        for r in rows:
            high = "any number" if r["highest"] is None else r["highest"]
            flag = "" if r["protected"] else "  NOT PROTECTED"
            print(f"  {r['cell']:<60} {r['shown_as']:<11} {r['lowest']} to {high}{flag}")
    return 1 if exposed else 0


def _report(args) -> int:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.reports.figures import Period
    from sefton_qa.services import sign_in
    from sefton_qa.services.reports import PackOptions, committee_pack

    start, end = _period_of(args)
    given = _previous_of(args)
    previous = Period(*given) if given else None
    cover = None
    if getattr(args, "cover", None):
        from sefton_qa.reports.cover import read_cover_file

        cover = read_cover_file(args.cover)
    options = PackOptions(public=args.public, appendix=args.appendix, previous=previous,
                          cover=cover)
    if args.disclosure_audit:
        return _disclosure_audit(args, start, end, options)
    if not args.output:
        raise ValidationError.single("-o/--output", "name the PDF (or HTML file) to write")
    with _open(args, create=False, check=True) as store:
        session = sign_in(store)

        def progress(done: int, total: int, message: str) -> bool:
            if sys.stderr.isatty():
                print(f"\r{100 * done // max(total, 1):3d}%  {message:<60}", end="",
                      file=sys.stderr, flush=True)
            return True

        result = committee_pack(session, start, end, args.output, options=options,
                                overwrite=args.overwrite, progress=progress,
                                csv_dir=args.csv_dir)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    size = ("one web page" if result.path.suffix.lower() in (".html", ".htm")
            else f"{result.pages} pages")
    print(f"Wrote {result.path}: {options.describe()} pack, {size}, "
          f"{result.audits:,} audits, in {result.seconds:.2f} s. SHA-256 {result.sha256}, "
          f"recorded in the trail; figures as at trail entry {result.trail_seq}.")
    if result.tables:
        print(f"Wrote {len(result.tables)} tables as CSV into {result.tables[0].parent}, each "
              "recorded in the trail.")
    return 0


# -- caseload, plans, the draw, allocations (issue 19) -----------------------------------------
def _caseload(args) -> int:
    from sefton_qa.services import caseload, sign_in

    if args.caseload_command == "import":
        _must_exist(args)
        with _open(args, create=False, check=True) as store:
            report = caseload.import_caseload(sign_in(store), args.file,
                                              taken_on=args.taken_on,
                                              create_missing=args.create_missing,
                                              dry_run=args.dry_run)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    with _open(args, create=False) as store:
        session = sign_in(store)
        if args.caseload_command == "compare":
            print("\n".join(caseload.compare_snapshots(session, args.snapshot,
                                                       args.previous).lines()))
            return 0
        if args.cases or args.snapshot is not None:
            for c in caseload.snapshot_cases(session, args.snapshot):
                opened = date_text(c.opened_on, "")
                print(f"{c.case_reference:<20} {c.team:<30} {c.case_type:<22} {opened:<10} "
                      f"{c.team_manager or ''}")
            return 0
        snapshots = caseload.list_snapshots(session)
    if not snapshots:
        print("No caseload snapshot yet: sefton-qa caseload import FILE")
    for snap in snapshots:
        print(f"{snap.id:>4}  {date_text(snap.taken_on)}  {snap.case_count:>7,} cases  "
              f"{snap.file_name}")
    return 0


def _quota_args(args) -> dict:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.domain.sampling import Quota
    from sefton_qa.services import plans

    given = [name for name, value in (("--per-team", args.per_team), ("--total", args.total),
                                      ("--plan", args.plan_file)) if value is not None]
    if len(given) != 1:
        raise ValidationError.single("quotas", "give one of --per-team N, --total N or "
                                               "--plan FILE")
    out = {"stratify_by": args.by, "exclude_months": args.exclude_months}
    if args.per_team is not None:
        out["per_stratum"] = Quota(args.per_team, args.dip_per_team)
    elif args.total is not None:
        out["total"] = Quota(args.total, args.dip_total)
    else:
        out["quotas"] = plans.read_plan_file(args.plan_file)
    return out


def _print_plan(plan) -> None:
    print(f"Plan {plan.id}: {date_text(plan.period_start)} to {date_text(plan.period_end)} "
          f"({plan.status}), snapshot {plan.snapshot_id}, by {plan.stratify_by.replace('_', ' ')}"
          f", quotas {plan.quota_rule.replace('_', ' ')}, due {date_text(plan.due_date)}")
    for q in plan.quotas:
        print(f"  {q.label:<32} {q.deep_dives:>3} deep dive(s)  {q.dip_samples:>3} dip "
              "sample(s)")


def _plan(args) -> int:
    from sefton_qa.services import plans, sign_in

    with _open(args, create=False, check=args.plan_command in ("create", "cancel")) as store:
        session = sign_in(store)
        if args.plan_command == "create":
            start, end = _period_of(args)
            if args.dry_run:
                print("\n".join(plans.preview_plan(session, start, end,
                                                   **_quota_args(args)).lines()))
                print("Dry run: nothing was written.")
                return 0
            change = plans.create_plan(session, start, end, **_quota_args(args))
            _print_plan(plans.get_plan(session, change.record_ids[0]))
        elif args.plan_command == "list":
            found = plans.list_plans(session)
            if not found:
                print("No plans yet: sefton-qa plan create --quarter YYYYQn --per-team N")
            for plan in found:
                _print_plan(plan)
        elif args.plan_command == "progress":
            rows = plans.plan_progress(session, args.plan_id)
            print(f"{'team':<32} {'planned':>7} {'done':>5} {'overdue':>7}")
            for r in rows:
                print(f"{r.team[:32]:<32} {r.planned:>7} {r.done:>5} {r.overdue:>7}")
        else:
            plans.cancel_plan(session, args.plan_id, args.why)
            print(f"Plan {args.plan_id} cancelled.")
    return 0


def _sample(args) -> int:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services import plans, sign_in

    if args.check:
        with _open(args, create=False) as store:
            results = plans.check_draws(sign_in(store))
        if not results:
            print("No draws recorded yet.")
        for r in results:
            print(r.line())
        return 0 if all(r.ok for r in results) else 1
    if args.discard is not None:
        if not args.why:
            raise ValidationError.single("--why", "say why the draw is discarded")
        with _open(args, create=False, check=True) as store:
            plans.discard_draw(sign_in(store), args.discard, args.why)
        print(f"Draw {args.discard} discarded; it stays on record.")
        return 0
    start, end = _period_of(args)
    quota_given = any(v is not None for v in (args.per_team, args.total, args.plan_file))
    with _open(args, create=False, check=not args.dry_run) as store:
        session = sign_in(store)
        plan = plans.plan_for_period(session, start, end)
        if args.dry_run:
            preview = plans.preview_plan(session, start, end, **_quota_args(args)) \
                if plan is None or quota_given else plans.preview_draw(session, plan.id)
            print("\n".join(preview.lines()))
            print("Dry run: nothing was drawn or written.")
            return 0
        if plan is None:
            if not quota_given:
                raise ValidationError.single("quotas", "the period has no plan yet: give "
                                                       "--per-team N, --total N or --plan FILE")
            plan = plans.get_plan(session, plans.create_plan(session, start, end,
                                                             **_quota_args(args)).record_ids[0])
        elif quota_given:
            raise ValidationError.single("quotas", f"the period has plan {plan.id} already: "
                                                   "draw it without quota options, or cancel it")
        result = plans.make_draw(session, plan.id, seed=args.seed)
        print("\n".join(result.lines(plan)))
        if not args.no_allocate:
            print("\n".join(plans.allocate_draw(session, result.draw.id).lines()))
    return 0


def _allocations(args) -> int:
    from sefton_qa.domain.errors import ValidationError
    from sefton_qa.services import plans, sign_in

    with _open(args, create=False, check=args.use_reserve is not None
               or args.export is not None) as store:
        session = sign_in(store)
        if args.use_reserve is not None:
            if not args.why:
                raise ValidationError.single("--why", "say why the reserve is used")
            plans.use_reserve(session, args.use_reserve, args.why)
            print(f"Allocation {args.use_reserve} replaced by its team's next reserve.")
            return 0
        if args.export:
            result = plans.export_allocations(session, args.export, plan_id=args.plan_id,
                                              draw_id=args.draw_id, overwrite=args.overwrite)
            print(f"Exported {result.rows:,} allocations to {result.path} "
                  f"(SHA-256 {result.sha256})")
            return 0
        items = plans.my_allocations(session) if args.mine else \
            plans.allocations(session, plan_id=args.plan_id, draw_id=args.draw_id)
        today = session.today()
    if args.json:
        print(json.dumps([{"id": a.id, "case_reference": a.case_reference, "team": a.team,
                           "audit_type": a.audit_type, "auditor": a.auditor,
                           "due_date": a.due_date.isoformat(), "done": a.is_done(),
                           "overdue": a.is_overdue(today), "audit_id": a.audit_id,
                           "reserve_reason": a.reserve_reason} for a in items], indent=2))
        return 0
    if not items:
        print("Nothing is allocated." if not args.mine else "Nothing is allocated to you.")
    for a in items:
        state = "done" if a.is_done() else "OVERDUE" if a.is_overdue(today) else "to do"
        print(f"{a.id:>5}  {a.case_reference:<20} {a.team[:28]:<28} "
              f"{a.audit_type.replace('_', ' '):<10} {(a.auditor or '-')[:24]:<24} "
              f"due {date_text(a.due_date)}  {state}")
    return 0
