#!/usr/bin/env python
"""Do a run's outputs depend on the CPU's code paths? One build per code path, compared byte for byte.

Usage (from the project root)::

    .venv/bin/python benchmarks/cpu_paths.py                            # every committed run (~12 min on 2 cores)
    .venv/bin/python benchmarks/cpu_paths.py --params params/seed.yaml  # one run
    .venv/bin/python benchmarks/cpu_paths.py --show-env                 # only the environments and their check

A build runs every stage of a run, each stage rendering its report, in its own copy of the
project (params, notebooks, the seed, the builtin corpora linked, the committed ``topics.json`` so
topics keep their ids). The code paths, one build each:

* ``native``: numpy and OpenBLAS pick their code paths for this CPU, as on any machine;
* ``Prescott``, ``Haswell``, ``Zen``, ``SkylakeX``: OpenBLAS forced to that kernel family with
  ``OPENBLAS_CORETYPE`` (numpy as native). A kernel needs CPU features (SSE3; AVX2 and FMA;
  AVX2 and FMA; AVX-512 F, CD, BW, DQ and VL): one this CPU lacks is skipped, with the reason.
  OpenBLAS may run another family than the one asked for (its Prescott is reported as
  "Katmai", and some builds run Zen on the Haswell kernels): a path that runs the same kernels
  as a path already built is skipped as a duplicate, with the kernels it ran;
* ``numpy-baseline``: numpy's SIMD dispatch held to its baseline (``NPY_DISABLE_CPU_FEATURES`` =
  every feature group above the baseline that this CPU has: X86_V3 on an AVX2 machine, also
  X86_V4 and AVX512_ICL on an AVX-512 one), OpenBLAS as native.

numpy accepts unknown names in ``NPY_DISABLE_CPU_FEATURES`` silently and OpenBLAS may fall back to
another kernel, so each environment is first checked in a fresh interpreter (``numpy.show_runtime()``,
threadpoolctl). Every build pins single-threaded BLAS, as the Makefile does. Every file of
``data/processed/<run>/``, ``build/<run>/*.ipynb`` and ``reports/<run>/`` is then compared with the
native build's; a difference is described (which columns, by how much; which images). Writes
``benchmarks/CPU_PATHS.md`` unless ``--no-write``; exits 1 when anything differs.
``tests/test_cpu_paths.py`` (``make check``) does the same for every committed run.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from newslens import stages
from newslens.pipeline import sandbox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "cpu-paths"
STAGES = stages.NAMES
# As the Makefile exports them: single-threaded BLAS, a fixed hash seed.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
# Taken out of the environment before each build sets its own. A machine's own OPENBLAS_CORETYPE
# (set where older OpenBLAS builds fail on its CPU) is kept: the native build is the machine as it is.
CODE_PATH_VARIABLES = ("NPY_DISABLE_CPU_FEATURES",)
GENERIC_BLAS = "Prescott"
GENERIC_BLAS_NAMES = {"prescott", "katmai"}  # OpenBLAS reports its Prescott kernels as "Katmai"
# The OpenBLAS kernel families compared: the CPU flags (/proc/cpuinfo) each needs, and the
# names threadpoolctl may report for it.
KERNELS = {
    "Prescott": ({"pni"}, {"prescott", "katmai"}),
    "Haswell": ({"avx2", "fma"}, {"haswell"}),
    "Zen": ({"avx2", "fma"}, {"zen", "haswell"}),
    "SkylakeX": ({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}, {"skylakex"}),
}
# The committed runs: their reports are in reports/ and `.ci/run` rebuilds them byte for byte.
COMMITTED_RUNS = ("seed", "bundestag", "news")

RUNTIME_PROBE = r"""
import contextlib, io, json
import numpy
from numpy._core import _multiarray_umath as umath
import scipy.linalg, sklearn.utils  # load every BLAS the stages use
import threadpoolctl
shown = io.StringIO()
with contextlib.redirect_stdout(shown):
    numpy.show_runtime()
print(json.dumps({
    "numpy": numpy.__version__,
    "baseline": list(umath.__cpu_baseline__),
    "dispatch": list(umath.__cpu_dispatch__),
    "features": {k: bool(v) for k, v in umath.__cpu_features__.items()},
    "blas": [{"prefix": i.get("prefix"), "version": i.get("version"), "architecture": i.get("architecture"),
              "threads": i.get("num_threads")} for i in threadpoolctl.threadpool_info()
             if i.get("internal_api") == "openblas"],
    "show_runtime": shown.getvalue(),
}))
"""


# ------------------------------------------------------------------ the environments

def features_above_baseline() -> list[str]:
    """numpy's dispatch targets that this CPU has, above the baseline numpy was built for."""
    from numpy._core import _multiarray_umath as umath

    baseline = set(umath.__cpu_baseline__)
    return [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f) and f not in baseline]


def portable_env() -> dict[str, str]:
    """numpy at its baseline and OpenBLAS on its generic kernels: the most distant code path."""
    env = {"OPENBLAS_CORETYPE": GENERIC_BLAS}
    features = features_above_baseline()
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(features)
    return env


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags, as Linux lists them (empty where there is no /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    match = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(match.group(1).split()) if match else set()


@dataclass
class CodePath:
    """One build's environment: its name, the variables that set it, and why it is skipped (if it is)."""

    name: str
    env: dict[str, str]
    skip: str = ""
    info: dict = field(default_factory=dict)  # what numpy and OpenBLAS said under env

    def signature(self) -> tuple:
        """What code this environment runs: numpy's features on, OpenBLAS's kernels."""
        on = tuple(sorted(f for f, v in self.info.get("features", {}).items() if v))
        return on, tuple(str(b["architecture"]).lower() for b in self.info.get("blas", []))


def code_paths(flags: set[str] | None = None, probe=None) -> list[CodePath]:
    """Every code path to compare on this CPU, native first; skipped ones carry their reason.

    ``probe(env)`` returns what numpy and OpenBLAS say under ``env`` (default :func:`runtime`).
    An environment that did not take effect (a feature still on, another kernel than asked)
    raises, since a comparison under it would prove nothing.
    """
    flags = cpu_flags() if flags is None else flags
    probe = probe or runtime
    paths = [CodePath("native", {})]
    for kernel, (needs, _) in KERNELS.items():
        missing = sorted(needs - flags)
        paths.append(CodePath(kernel, {"OPENBLAS_CORETYPE": kernel},
                              skip=f"this CPU lacks {', '.join(missing)}" if missing else ""))
    features = features_above_baseline()
    paths.append(CodePath("numpy-baseline", {"NPY_DISABLE_CPU_FEATURES": " ".join(features)} if features else {},
                          skip="" if features else "this CPU has no numpy SIMD feature above numpy's baseline"))
    seen: dict[tuple, str] = {}
    for path in paths:
        if path.skip:
            continue
        path.info = probe(path.env)
        problems = check_environment(path)
        if problems:
            raise RuntimeError(f"the {path.name} environment did not take effect: " + "; ".join(problems))
        signature = path.signature()
        if signature in seen:
            kernels = ", ".join(sorted(set(signature[1])))
            path.skip = f"runs the same code as {seen[signature]} (OpenBLAS kernels: {kernels})"
        else:
            seen[signature] = path.name
    return paths


def check_environment(path: CodePath) -> list[str]:
    """Problems with an environment: a feature still on, a BLAS not on the kernels asked for."""
    problems = []
    info = path.info
    for feature in path.env.get("NPY_DISABLE_CPU_FEATURES", "").split():
        if info["features"].get(feature):
            problems.append(f"numpy still uses {feature} with NPY_DISABLE_CPU_FEATURES")
        if feature in shown_found(info["show_runtime"]):
            problems.append(f"numpy.show_runtime() lists {feature} as found")
    if not info["blas"]:
        problems.append("no OpenBLAS found by threadpoolctl")
    kernel = path.env.get("OPENBLAS_CORETYPE")
    if kernel:
        allowed = KERNELS[kernel][1] if kernel in KERNELS else {kernel.lower()}
        for lib in info["blas"]:
            if str(lib["architecture"]).lower() not in allowed:
                problems.append(f"{lib['prefix']} {lib['version']} runs {lib['architecture']} kernels "
                                f"with OPENBLAS_CORETYPE={kernel}")
    return problems


def check_portable(native: dict, portable: dict, env: dict[str, str]) -> list[str]:
    """Problems with the portable environment (see :func:`portable_env`)."""
    problems = check_environment(CodePath("portable", env, info=portable))
    if len(native["blas"]) != len(portable["blas"]):
        problems.append("the two environments load different BLAS libraries")
    return problems


def base_env() -> dict[str, str]:
    """This process's environment without numpy's feature switch, pinned as the Makefile pins
    it, with this checkout's code first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in CODE_PATH_VARIABLES}
    env.update(THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return env


def runtime(extra: dict[str, str] | None = None) -> dict:
    """What numpy and OpenBLAS use in a fresh interpreter under ``extra``."""
    done = subprocess.run([sys.executable, "-c", RUNTIME_PROBE], env={**base_env(), **(extra or {})},
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def shown_found(text: str) -> list[str]:
    """The SIMD extensions that ``numpy.show_runtime()`` printed as found."""
    match = re.search(r"'found':\s*\[(.*?)\]", text, re.S)
    return re.findall(r"'(\w+)'", match.group(1)) if match else []


def describe(info: dict) -> str:
    """One line: numpy's SIMD extensions and each OpenBLAS's kernels."""
    found = [f for f in info["dispatch"] if info["features"].get(f) and f not in info["baseline"]]
    blas = ", ".join(f"{b['prefix']} {b['version']}: {b['architecture']} ×{b['threads']}" for b in info["blas"])
    return (f"numpy {info['numpy']} SIMD baseline {' '.join(info['baseline'])}, found above it: "
            f"{' '.join(found) or 'none'}; OpenBLAS {blas}")


# ------------------------------------------------------------------ building

def make_project(dest: Path, params: Path) -> Path:
    """A fresh copy of what a build reads, in ``dest``; returns the params path inside it.

    The builtin corpora that are on disk are linked, not copied (they are read only).
    """
    if dest.exists():
        shutil.rmtree(dest)
    corpora = [f"data/raw/{corpus.name}" for corpus in sorted((ROOT / "data" / "raw").iterdir()) if corpus.is_dir()]
    sandbox.make(dest, links=corpora, params=params)
    return dest / params.resolve().relative_to(ROOT.resolve())


def build(root: Path, params: Path, extra: dict[str, str], log=lambda message: None) -> float:
    """Every stage of the run executed (each renders its report) in ``root``; returns the seconds taken."""
    env = {**base_env(), **extra, "NEWSLENS_ROOT": str(root)}
    relative = params.relative_to(root).as_posix()
    started = time.perf_counter()
    for stage in STAGES:
        done = subprocess.run([sys.executable, "-m", "newslens", "stage", relative, stage],
                              cwd=root, env=env, capture_output=True, text=True, timeout=3600)
        if done.returncode:
            raise RuntimeError(f"stage {stage} failed in {root}:\n{done.stderr[-3000:]}")
        log(f"  {root.parent.name}/{root.name}: {stage} done ({time.perf_counter() - started:.0f} s)")
    return time.perf_counter() - started


def build_all(plans: list[tuple[str, CodePath]], work: Path, *, jobs: int = 2,
              log=lambda message: None) -> dict[tuple[str, str], tuple[Path, float]]:
    """Build each (run, code path) in ``work/<run>/<path>``, ``jobs`` at a time.

    Returns {(run, path name): (project root, seconds)}.
    """
    def one(plan):
        run, path = plan
        root = work / run / path.name
        params = make_project(root, ROOT / "params" / f"{run}.yaml")
        log(f"building {run} ({path.name})")
        return (run, path.name), (root, build(root, params, path.env, log))

    # The longest runs first, so that no long build starts last while the other worker idles.
    order = sorted(plans, key=lambda plan: COMMITTED_RUNS.index(plan[0]) if plan[0] in COMMITTED_RUNS else -1,
                   reverse=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(one, order))


# ------------------------------------------------------------------ comparing

def outputs(root: Path, run: str) -> dict[str, Path]:
    """Every output of a run: processed data, executed notebooks, rendered reports."""
    found = {}
    for folder, pattern in ((root / "data" / "processed" / run, "*"), (root / "build" / run, "*.ipynb"),
                            (root / "reports" / run, "*")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path
    return found


# A PNG in a rendered report (data: URL) or in an executed notebook (JSON string, escaped newlines).
PNG = re.compile(rb'image/png(?:;base64,|":\s*")([A-Za-z0-9+/=\\n]+)')


def _table_difference(a: Path, b: Path) -> str:
    import numpy as np
    import pandas as pd

    read = pd.read_parquet if a.suffix == ".parquet" else pd.read_csv
    x, y = read(a), read(b)
    if x.shape != y.shape or list(x.columns) != list(y.columns):
        return f"shape or columns differ: {x.shape} vs {y.shape}"
    parts = []
    for column in x.columns:
        left, right = x[column].to_numpy(), y[column].to_numpy()
        if x[column].dtype.kind == "f" and y[column].dtype.kind == "f":
            unequal = ~((left == right) | (np.isnan(left) & np.isnan(right)))
            if unequal.any():
                parts.append(f"{column}: {int(unequal.sum())} values, max |Δ| {np.nanmax(np.abs(left - right)):.3g}")
        elif not x[column].astype(str).equals(y[column].astype(str)):
            parts.append(f"{column}: {int((x[column].astype(str) != y[column].astype(str)).sum())} values")
    return "; ".join(parts) or "same values, other bytes"


def difference(a: Path, b: Path) -> str:
    """What differs between two files of the same name, in a few words."""
    if a.suffix in (".parquet", ".csv"):
        try:
            return _table_difference(a, b)
        except Exception as error:  # noqa: BLE001 - a description, not a check
            return f"unreadable as a table ({error})"
    x, y = a.read_bytes(), b.read_bytes()
    if a.suffix in (".html", ".ipynb"):
        images_x, images_y = PNG.findall(x), PNG.findall(y)
        other = [i for i, (p, q) in enumerate(zip(images_x, images_y)) if p != q]
        lines = sum(p != q for p, q in zip(x.splitlines(), y.splitlines()))
        return f"{len(other)} of {len(images_x)} images differ (image {', '.join(str(i + 1) for i in other)}); " \
               f"{lines} lines differ" if other else f"images identical; {lines} lines differ"
    return f"{len(x)} vs {len(y)} bytes"


def compare(a_root: Path, b_root: Path, run: str) -> tuple[list[str], dict[str, str]]:
    """(files compared, {file: what differs}) between two builds of a run."""
    a, b = outputs(a_root, run), outputs(b_root, run)
    differ = {name: "only in one build" for name in sorted(set(a) ^ set(b))}
    for name in sorted(set(a) & set(b)):
        if a[name].read_bytes() != b[name].read_bytes():
            differ[name] = difference(a[name], b[name])
    return sorted(set(a) | set(b)), differ


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_images(report: Path, folder: Path) -> list[Path]:
    """The PNGs of a rendered report, as files (to look at them)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, data in enumerate(re.findall(rb'src="data:image/png;base64,([^"]+)"', report.read_bytes()), 1):
        path = folder / f"{report.stem}-{index}.png"
        path.write_bytes(base64.b64decode(data))
        written.append(path)
    return written


# ------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", nargs="+", default=[f"params/{r}.yaml" for r in COMMITTED_RUNS],
                        help="the runs to build (default: every committed run)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the builds go")
    parser.add_argument("--jobs", type=int, default=2, help="builds at a time (default 2)")
    parser.add_argument("--show-env", action="store_true", help="only show and check the environments")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/CPU_PATHS.md")
    args = parser.parse_args(argv)
    log = lambda message: print(message, flush=True)

    paths = code_paths()
    for path in paths:
        what = f"skipped: {path.skip}" if path.skip else describe(path.info)
        log(f"{path.name:15} {env_text(path.env) or 'as is':45} {what}")
    if args.show_env:
        return 0
    built = [p for p in paths if not p.skip]
    runs = [Path(p).stem for p in args.params]
    results = build_all([(run, path) for run in runs for path in built], args.work, jobs=args.jobs, log=log)
    differ_any = False
    tables = {}
    for run in runs:
        native_root = results[(run, "native")][0]
        rows = []
        for path in built[1:]:
            names, differ = compare(native_root, results[(run, path.name)][0], run)
            differ_any |= bool(differ)
            rows.append((path, names, differ))
            log(f"{run}: {path.name}: {len(names) - len(differ)} of {len(names)} files identical to native")
            for name, what in differ.items():
                log(f"  DIFFERS {name}: {what}")
        tables[run] = rows
    if not args.no_write:
        write_markdown(HERE / "CPU_PATHS.md", paths=paths, tables=tables, results=results, jobs=args.jobs)
    return 1 if differ_any else 0


def env_text(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v!r}" if " " in v else f"{k}={v}" for k, v in sorted(env.items()))


def write_markdown(path: Path, *, paths: list[CodePath], tables: dict, results: dict, jobs: int) -> None:
    runs = list(tables)
    lines = [
        "# Outputs under every CPU code path",
        "",
        f"`benchmarks/cpu_paths.py --params {' '.join(f'params/{r}.yaml' for r in runs)}`, "
        f"{_dt.date.today():%d %B %Y}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {jobs} builds at a time, so a build's time is wall time on a shared machine.",
        "",
        "| code path | environment | what numpy and OpenBLAS said | " + " | ".join(f"{r} build" for r in runs) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in runs) + " |",
    ]
    for p in paths:
        if p.skip:
            lines.append(f"| {p.name} | `{env_text(p.env) or 'as is'}` | skipped: {p.skip} | "
                         + " | ".join("–" for _ in runs) + " |")
        else:
            lines.append(f"| {p.name} | `{env_text(p.env) or 'as is'}` | {describe(p.info)} | "
                         + " | ".join(f"{results[(r, p.name)][1]:.0f} s" for r in runs) + " |")
    lines.append("")
    for run, rows in tables.items():
        for p, names, differ in rows:
            lines.append(f"- **{run}, {p.name} against native: {len(names) - len(differ)} of {len(names)} "
                         f"files identical** (`data/processed/{run}/`, `build/{run}/*.ipynb`, `reports/{run}/`)")
            lines += [f"  - `{n}`: {w}" for n, w in differ.items()]
    lines.append("")
    for run in runs:
        root = results[(run, "native")][0]
        lines += ["", f"| {run}: file | sha256 (native build) |", "| --- | --- |"]
        for name, file in outputs(root, run).items():
            lines.append(f"| `{name}` | `{sha256(file)[:16]}…` |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
