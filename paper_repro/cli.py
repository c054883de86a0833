"""Command line: ``python -m paper_repro list | run | build | fetch`` (also the ``paper-repro`` script)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm.auto import tqdm

from . import runner
from .config import DEVICES, PROFILES, ConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paper-repro", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print chapters and their parameters with defaults and meaning")
    run = sub.add_parser("run", help="execute chapters with papermill into the executed-notebooks folder")
    run.add_argument("chapters", nargs="*", help="chapter names (default: all, in book order)")
    run.add_argument("--profile", default="quick", choices=PROFILES)
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override a chapter parameter (Python literal or string); repeatable")
    run.add_argument("--timeout", type=int, default=-1, help="per-cell timeout in s (default: by profile; 0 = none)")
    run.add_argument("--output", type=Path, default=None, help="output root (default: $PAPER_REPRO_OUTPUT or artifacts/)")
    build = sub.add_parser("build", help="render the book from executed notebooks (never re-executes)")
    build.add_argument("--output", type=Path, default=None, help="output root the notebooks were run into")
    build.add_argument("--no-strict", action="store_true", help="do not pass -W -n --keep-going")
    rec = sub.add_parser("record-costs", help="copy executed chapters' run times into book/profile_costs.json")
    rec.add_argument("--output", type=Path, default=None, help="output root the notebooks were run into")
    fetch = sub.add_parser("fetch", help="obtain and verify datasets (MNIST and Fashion-MNIST by default)")
    fetch.add_argument("datasets", nargs="*", default=["mnist", "fashion_mnist"])
    fetch.add_argument("--root", type=Path, default=None, help="data root (default: $PAPER_REPRO_DATA or data/)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            for ch in runner.chapters():
                print(f"{ch.name}: {ch.title}")
                for prm in ch.parameters():
                    print(f"    {prm.name} = {prm.default!r}  # {prm.help}")
        elif args.command == "run":
            chosen = [runner.find_chapter(c) for c in args.chapters] or runner.chapters()
            params = {name: runner.parse_value(value) for name, value in args.param}
            timeout = None if args.timeout == 0 else args.timeout
            for ch in tqdm(chosen, desc=f"chapters ({args.profile})", unit="chapter"):
                path = runner.run_chapter(ch, args.profile, args.device, params, args.output, timeout)
                print(f"executed {ch.name} -> {path}")
        elif args.command == "build":
            html = runner.build_book(out=args.output, strict=not args.no_strict)
            print(f"book built: open {html / 'index.html'}")
        elif args.command == "record-costs":
            from .costs import COSTS_FILE, record

            print(f"{len(record(runner.execution_report(args.output)))} entries in {COSTS_FILE}")
        elif args.command == "fetch":
            from .fetch import fetch_all

            for name, folder in fetch_all(tuple(args.datasets), args.root).items():
                print(f"{name}: {folder}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
