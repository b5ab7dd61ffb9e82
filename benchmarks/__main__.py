"""``python -m benchmarks``: the command line of the benchmarks (see :mod:`benchmarks`)."""

from __future__ import annotations

import argparse
import datetime as _dt
import shlex
import sys
import time
from pathlib import Path

import benchmarks
from benchmarks import harness, markdown, report_timing
from benchmarks.cells import CELL_STAGES, CELLS, TOPIC_K, driver
from benchmarks.harness import DEFAULT_WORK, HERE, default_mem_guard_gib, error_record, log, short_error
from benchmarks.targets import estimate_full_run, evaluate_targets
from benchmarks.workloads import NEWS_PARAMS, SEED_PARAMS

SECTIONS = ("stages", "sweep", "report", "overhead")
# The options recorded in results.json, in this order.
SETTINGS = ("scales", "repeats", "cell_budget", "max_anchor_scale", "gensim_max_scale", "sections", "mem_guard_gib",
            "topic_k", "sweep_scales", "report_repeats")


def parse_args(argv=None):
    """The bench's options (and the driver's, hidden)."""
    parser = argparse.ArgumentParser(description=benchmarks.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16], help="replication factors")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="smoke test: --scales 1 --repeats 1")
    parser.add_argument("--cell-budget", type=float, default=150.0,
                        help="seconds: stop repeating a measurement when its runs would pass this (default 150; "
                             "'inf' always runs --repeats)")
    parser.add_argument("--max-anchor-scale", type=int, default=10**6,
                        help="skip the anchors above this scale (ours is still measured)")
    parser.add_argument("--gensim-max-scale", type=int, default=10**6,
                        help="skip the gensim anchors (Phrases, LdaModel) above this scale (`make bench`: 1)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--sweep-scales", type=int, nargs="+", default=[1, 16],
                        help="scales at which the k sweep is timed against today's (default 1 16; those in --scales)")
    parser.add_argument("--report-repeats", type=int, default=1,
                        help="cold `make report` / bare script pairs (default 1: a cold news build takes minutes)")
    parser.add_argument("--work", default=str(DEFAULT_WORK), help="folder for inputs and intermediates")
    parser.add_argument("--out", default=str(HERE), help="folder for results.json and RESULTS.md")
    parser.add_argument("--keep-sandbox", action="store_true", help="keep the overhead sandboxes")
    parser.add_argument("--driver-timeout", type=float, default=4 * 3600.0, help="seconds per subprocess")
    parser.add_argument("--mem-guard-gib", type=float, default=None,
                        help="stop a stage whose processes pass this RSS (default: 80%% of the memory available "
                             "at the start, at most 16 GiB; 0 disables)")
    # driver mode (internal)
    parser.add_argument("--stage", choices=sorted(CELLS) + ["prepare"], help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--params", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.scales, args.repeats = [1], 1
    if args.mem_guard_gib is None:
        args.mem_guard_gib = default_mem_guard_gib()
    args.scales = sorted(set(args.scales))
    return args


def plan(args) -> list[tuple[str, int | str]]:
    """The steps of a run of ``args.sections``: (cell or section, scale or run)."""
    steps: list[tuple[str, int | str]] = [("prepare", 0)] if {"stages", "sweep"} & set(args.sections) else []
    if "stages" in args.sections:
        steps += [(stage, scale) for scale in args.scales for stage in CELL_STAGES]
    if "sweep" in args.sections:
        steps += [("sweep", scale) for scale in args.sweep_scales if scale in args.scales]
    if "report" in args.sections:
        steps.append(("report", 0))
    if "overhead" in args.sections:
        steps.append(("overhead", "seed"))
    return steps


def run_step(stage: str, scale, args, results: dict) -> None:
    """One step, its record put into ``results``."""
    if stage == "prepare":
        results["inputs"] = harness.run_driver("prepare", 0, args)
        if "error" in results["inputs"]:
            log.error("preparing the inputs failed: %s", results["inputs"]["error"])
    elif stage == "sweep":
        results["sweep"][str(scale)] = harness.run_driver("sweep", scale, args)
    elif stage == "report":
        results["report"] = report_timing.report_section(args)
    elif stage == "overhead":
        params = SEED_PARAMS if scale == "seed" else NEWS_PARAMS
        results["overhead"][scale] = report_timing.notebook_overhead(params, args, scale)
    else:
        results["cells"].setdefault(stage, {})[str(scale)] = harness.run_driver(stage, scale, args)


def main(argv=None) -> int:
    """Run the bench (or, with ``--stage``, one cell as its driver); write results.json and RESULTS.md."""
    args = parse_args(argv)
    if args.stage:
        return driver(args)
    harness.setup_logging()
    from tqdm import tqdm

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = shlex.join([harness.rel_path(sys.executable), "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    started = time.perf_counter()
    results = {"command": command, "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
               "settings": {key: {**vars(args), "topic_k": TOPIC_K}[key] for key in SETTINGS},
               "load_start": harness.loadavg(), "cells": {}, "sweep": {}, "overhead": {}}
    try:
        results["machine"] = harness.machine_info()
    except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
        results["machine"] = error_record(exc)
    if (results["load_start"] or [0])[0] >= 1:
        log.warning("load average %s: the machine is busy, timings will be noisy", results["load_start"])

    def save():
        results["bench_seconds"] = round(time.perf_counter() - started, 1)
        results["load_end"] = harness.loadavg()
        try:
            results["targets"] = evaluate_targets(results)
            results["estimate_full_run"] = estimate_full_run(results) if args.scales == [1] else None
            results["estimate_full_run_anchors_to_x4"] = (estimate_full_run(results, max_anchor_scale=4)
                                                          if args.scales == [1] else None)
        except Exception as exc:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
            results["report_error"] = error_record(exc)
        markdown.write_report(results, out_dir)

    bar = tqdm(plan(args), desc="bench", unit="cell", file=sys.stderr, disable=False, dynamic_ncols=True)
    for stage, scale in bar:
        bar.set_postfix_str(f"overhead {scale}" if stage == "overhead" else
                            "report" if stage == "report" else f"{stage} ×{scale}")
        try:
            run_step(stage, scale, args, results)
        except Exception as exc:  # noqa: BLE001 - one cell never stops the bench
            log.error("%s ×%s failed: %s", stage, scale, short_error(exc))
            target = results["cells"].setdefault(stage, {}) if stage in CELL_STAGES else results
            target[str(scale) if stage in CELL_STAGES else stage] = error_record(exc)
        save()
    bar.close()
    save()
    log.info("wrote %s and %s in %.0f s", harness.rel(out_dir / "results.json"), harness.rel(out_dir / "RESULTS.md"),
             results["bench_seconds"])
    for row in results.get("targets", []):
        log.info("%-55s %s", row["target"], row["status"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
