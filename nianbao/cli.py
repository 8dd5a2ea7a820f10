"""The `nianbao` command: parse, refresh, serve, sample-portals, demo, export, replay, catalog, seed."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nianbao import __version__
from nianbao.config import data_dir

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage or bad input: exit code 2, the message names the culprit."""


def cmd_parse(args: argparse.Namespace) -> int:
    if args.files and args.data:
        raise UsageError("give either FILE... or --data DIR, not both")
    if args.data or not args.files:
        from archive.stage import run_stage

        root = data_dir(args.data)
        if not (root / "catalog.db").is_file():
            raise UsageError(f"{root}: no catalog.db (crawl first: scrapy crawl portals -s DATA_DIR={root})")
        from nianbao.lock import DataDirLocked, data_dir_lock

        try:
            with data_dir_lock(root, "nianbao parse --data", wait=args.wait):
                summary = run_stage(root, limit=args.limit)
        except DataDirLocked as exc:
            print(f"nianbao parse: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        except Exception as exc:  # the catalog could not be read or written: the run failed
            print(f"nianbao parse: {root / 'catalog.db'}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        # A document that fails is recorded in parse_failures with its reason; the stage itself succeeded.
        print(json.dumps(summary, ensure_ascii=False) if args.json else _format_summary(summary))
        return EXIT_OK
    from nianbao.parse import parse_file

    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"nianbao parse: {name}: no such file", file=sys.stderr)
            status = EXIT_USAGE
            continue
        try:
            report = parse_file(path)
        except Exception as exc:  # one bad document never stops the others
            print(f"nianbao parse: {name}: {exc}", file=sys.stderr)
            status = max(status, EXIT_FAILURE)
            continue
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
        else:
            print(report.summary_line())
    return status


def _format_summary(summary: dict) -> str:
    return "  ".join(f"{k}: {v}" for k, v in summary.items() if not isinstance(v, (list, dict)))


def cmd_refresh(args: argparse.Namespace) -> int:
    from nianbao.refresh import refresh

    settings = {}
    for pair in args.set or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set takes KEY=VALUE, not {pair!r}")
        settings[key] = value
    return refresh(data_dir(args.data), portals=args.portals, only=args.only, settings=settings, wait=args.wait)


def cmd_serve(args: argparse.Namespace) -> int:
    from nianbao.serve import serve

    return serve(data_dir(args.data), host=args.host, port=args.port, public=args.public)


def cmd_sample_portals(args: argparse.Namespace) -> int:
    from nianbao.sample_portals.server import serve_forever

    return serve_forever(port=args.port, scale=args.scale)


def cmd_demo(args: argparse.Namespace) -> int:
    from nianbao.demo import demo

    return demo(data_dir(args.data or "demo-data"), port=args.port, serve_after=not args.no_serve,
                replay_port=args.replay_port)


def cmd_export(args: argparse.Namespace) -> int:
    if args.format == "panel":
        return cmd_export_panel(args)
    if args.format != "wacz":
        raise UsageError(f"unknown export format {args.format!r}: only 'wacz'")
    if not args.out:
        raise UsageError("export wacz: give the output file (OUT.wacz)")
    from archive.wacz import ExportError, export_wacz

    try:
        out = export_wacz(data_dir(args.data), Path(args.out))
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
    print(out)
    return EXIT_OK


def cmd_export_panel(args: argparse.Namespace) -> int:

    from nianbao.panel import PanelError, export_panel, parse_years

    fmt = args.panel_format
    out = Path(args.out or f"panel.{fmt}")
    try:
        patterns = [p.strip() for p in (args.cells or "").split(",") if p.strip()] or None
        result = export_panel(data_dir(args.data), out, fmt, parse_years(args.years), patterns)
    except PanelError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from archive.replay import serve_replay

    return serve_replay(data_dir(args.data), host=args.host, port=args.port)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"seconds must not be negative: {value!r}")
    return seconds


def cmd_catalog_rebuild(args: argparse.Namespace) -> int:
    from catalog import CatalogError, load_portals, open_catalog
    from catalog.rebuild import rebuild_catalog

    if not args.from_warc:
        raise UsageError("say where from: --from-warc (the only source a catalog is rebuilt from)")
    root = data_dir(args.data)
    out = Path(args.out) if args.out else root / "catalog.rebuilt.db"
    if out.exists():
        raise UsageError(f"{out}: exists; rebuild writes a new catalog (move it away or give --out)")
    from nianbao.lock import DataDirLocked, data_dir_lock

    try:
        # the WARC files must not grow under the rebuild: one writer (or reader of a whole archive) at a time
        with data_dir_lock(root, "nianbao catalog rebuild"):
            db = open_catalog(out)
            try:
                if args.portals:
                    from crawler.registry import load_registry

                    load_portals(db, [p.as_row() for p in load_registry(args.portals).portals])
                counts = rebuild_catalog(db, root / "warc")
            except CatalogError as exc:
                db.close()
                out.unlink(missing_ok=True)
                raise UsageError(str(exc)) from exc
            db.close()
    except DataDirLocked as exc:
        print(f"nianbao catalog rebuild: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps({"catalog": str(out), **counts}, ensure_ascii=False))
    return EXIT_OK


def cmd_catalog_merge(args: argparse.Namespace) -> int:
    from catalog import CatalogError
    from catalog.merge import merge_worker_dirs
    from nianbao.lock import DataDirLocked, data_dir_lock

    root = data_dir(args.data)
    try:
        with data_dir_lock(root, "nianbao catalog merge"):
            totals = merge_worker_dirs(root, args.workers)
    except DataDirLocked as exc:
        print(f"nianbao catalog merge: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except CatalogError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(totals, ensure_ascii=False))
    return EXIT_OK


def cmd_seed(args: argparse.Namespace) -> int:
    from crawler.distributed import SeedError, seed_frontier

    try:
        summary = seed_frontier(args.redis, args.portals or "portals.csv", only=args.only, reset=args.reset)
    except SeedError as exc:
        raise UsageError(str(exc)) from exc
    print(json.dumps(summary, ensure_ascii=False))
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from crawler.distributed import SeedError, fetch_registry
    from nianbao.refresh import PROJECT_ROOT, scrapy_env

    root = data_dir(args.data)
    try:
        registry, only = fetch_registry(args.redis, root / "portals.seeded.csv")
    except SeedError as exc:
        raise UsageError(str(exc)) from exc
    cmd = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
           "-s", f"DATA_DIR={root}", "-s", "DISTRIBUTED=True", "-s", f"REDIS_URL={args.redis}"]
    if only:
        cmd += ["-a", f"only={only}"]
    if args.worker_id:
        cmd += ["-s", f"WORKER_ID={args.worker_id}"]
    for pair in args.set or []:
        cmd += ["-s", pair]
    # the crawl replaces this process: a supervisor's signals (SIGTERM, SIGKILL) reach the crawler itself
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, cmd, scrapy_env())


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.distributed import cluster_status

    print(json.dumps(cluster_status(args.redis), ensure_ascii=False, indent=1))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nianbao", description=__doc__)
    parser.add_argument("--version", action="version", version=f"nianbao {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse report files, or every unparsed archived document (--data)")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line")
    p.add_argument("--data", help="the parser stage over DATA_DIR's catalog")
    p.add_argument("--limit", type=int, default=None, help="parse at most N documents (stage)")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="wait this long for another writer of DATA_DIR to finish (default: exit 1 at once)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("refresh", help="crawl incrementally, parse what is new, summarise (for cron)")
    p.add_argument("--portals", default=None, help="registry CSV (default: portals.csv)")
    p.add_argument("--only", default=None, help="comma-separated portal ids")
    p.add_argument("--data", default=None)
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="a Scrapy setting for the crawl")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="wait this long for another writer of DATA_DIR to finish (default: exit 1 at once)")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("serve", help="Datasette over the catalog")
    p.add_argument("--data", default=None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--public", action="store_true",
                   help="for sharing: table views and canned queries only, no arbitrary SQL")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sample-portals", help="serve the bundled sample portals on 127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="first port (0: pick free ones)")
    p.add_argument("--scale", type=int, default=0, help="grow every column to N synthetic entries (benchmarks)")
    p.set_defaults(func=cmd_sample_portals)

    p = sub.add_parser("demo", help="sample portals + crawl + parse + serve, in one go")
    p.add_argument("--data", default=None)
    p.add_argument("--port", type=int, default=8001, help="Datasette port")
    p.add_argument("--no-serve", action="store_true", help="stop after crawl and parse")
    p.add_argument("--replay-port", type=int, default=8080, help="port of the replay server (archived copies)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export", help="export the archive (wacz) or the agency × year panel (panel)")
    p.add_argument("format", choices=["wacz", "panel"])
    p.add_argument("out", metavar="OUT", nargs="?", help="OUT.wacz, or the panel file (default panel.csv)")
    p.add_argument("--format", dest="panel_format", choices=["csv", "parquet"], default="csv",
                   help="panel file format")
    p.add_argument("--years", default=None, help="panel years: 2019-2024 or 2019,2021")
    p.add_argument("--cells", default=None, help="panel cell keys, comma-separated globs such as 't3.*'")
    p.add_argument("--data", default=None)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("replay", help="replay the archive in a browser (pywb)")
    p.add_argument("--data", default=None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("catalog", help="rebuild the catalog from the WARC files, or merge worker catalogs")
    catalog_sub = p.add_subparsers(dest="catalog_command", required=True)
    q = catalog_sub.add_parser("rebuild", help="a new catalog from DATA_DIR/warc alone")
    q.add_argument("--from-warc", action="store_true", help="read every closed WARC file of DATA_DIR/warc")
    q.add_argument("--data", default=None)
    q.add_argument("--out", default=None, help="the new catalog (default DATA_DIR/catalog.rebuilt.db)")
    q.add_argument("--portals", default=None, help="registry CSV whose rows fill the portals table")
    q.set_defaults(func=cmd_catalog_rebuild)
    q = catalog_sub.add_parser("merge", help="fold worker data directories into DATA_DIR (idempotent)")
    q.add_argument("workers", nargs="+", metavar="WORKER_DIR", help="a worker's DATA_DIR")
    q.add_argument("--data", default=None, help="the data directory Datasette serves")
    q.set_defaults(func=cmd_catalog_merge)

    p = sub.add_parser("seed", help="put the registry into a Redis frontier for distributed workers")
    p.add_argument("--redis", required=True, metavar="URL", help="redis://host:port/db")
    p.add_argument("--portals", default=None, help="registry CSV (default: portals.csv)")
    p.add_argument("--only", default=None, help="comma-separated portal ids")
    p.add_argument("--reset", action="store_true", help="forget a finished crawl's frontier and fingerprints first")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("worker", help="one distributed crawl worker on the seeded Redis frontier")
    p.add_argument("--redis", required=True, metavar="URL")
    p.add_argument("--data", default=None, help="this worker's DATA_DIR (its WARC files and catalog)")
    p.add_argument("--worker-id", default=None, help="names its WARC files (default host_pid)")
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="a Scrapy setting")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("status", help="a distributed crawl's progress: queues, in flight, workers")
    p.add_argument("--redis", required=True, metavar="URL")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"nianbao {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
