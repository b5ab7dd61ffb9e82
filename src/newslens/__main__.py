"""``python -m newslens init SOURCE [--name NAME]``: start a run from a file or folder."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newslens", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write params/NAME.yaml for a corpus, guessing its columns")
    init.add_argument("source", help="a text file, a folder of .txt/.md files, or a table (.csv .tsv .jsonl .parquet)")
    init.add_argument("--name", default=None, help="the run name (default: from the source's file name)")
    init.add_argument("--force", action="store_true", help="overwrite an existing params file")
    args = parser.parse_args(argv)

    from newslens import config
    from newslens.scaffold import InitError, init as write_params

    try:
        target, command = write_params(args.source, args.name, force=args.force)
    except InitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    check = ("the builtin maps its own columns" if args.source.startswith("builtin:")
             else "check the guesses in its comments")
    print(f"wrote {config.relative_to_root(target)}: {check}, then build the run with")
    print(f"  {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
