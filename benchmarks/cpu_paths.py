#!/usr/bin/env python
"""Do a run's outputs depend on the CPU's code paths? Two builds, compared byte for byte.

Usage (from the project root)::

    .venv/bin/python benchmarks/cpu_paths.py                           # the news run (~15 min on 2 cores)
    .venv/bin/python benchmarks/cpu_paths.py --params params/seed.yaml # the seed run (~2 min)
    .venv/bin/python benchmarks/cpu_paths.py --show-env                # only the environment and its check

Each build runs every stage and renders every report of the run in its own copy of the
project under ``benchmarks/work/cpu-paths/`` (params, notebooks, the seed, the builtin corpus
linked, the committed ``topics.json`` so topics keep their ids):

* ``native``: numpy and OpenBLAS pick their code paths for this CPU, as on any machine;
* ``portable``: numpy's SIMD dispatch held to its baseline (``NPY_DISABLE_CPU_FEATURES`` =
  every feature group above the baseline that this CPU has: X86_V3 on an AVX2 machine, also
  X86_V4, AVX512_ICL, AVX512_SPR on an AVX-512 one) and OpenBLAS on its generic kernels
  (``OPENBLAS_CORETYPE=Prescott``, which OpenBLAS names "Katmai": its builds alias the two).

numpy accepts unknown names in ``NPY_DISABLE_CPU_FEATURES`` silently, so the script checks in
a fresh interpreter that the features are really off (``numpy.show_runtime()``) and that
OpenBLAS runs the generic kernels (threadpoolctl), before anything is built. Both builds pin
single-threaded BLAS, as the Makefile does. Every file of ``data/processed/<run>/``,
``build/<run>/*.ipynb`` and ``reports/<run>/`` is then compared; a difference is described
(which columns, by how much; which images). Writes ``benchmarks/CPU_PATHS.md`` unless
``--no-write``; exits 1 when anything differs. ``tests/test_cpu_paths.py`` does the same for the
seed run.
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
from pathlib import Path

from newslens import stages

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "cpu-paths"
STAGES = stages.NAMES
PROJECT_PARTS = ("params", "notebooks", "data/raw/seed")
# As the Makefile exports them: single-threaded BLAS, a fixed hash seed.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
GENERIC_BLAS = "Prescott"
GENERIC_BLAS_NAMES = {"prescott", "katmai"}  # OpenBLAS reports its Prescott kernels as "Katmai"

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


# ------------------------------------------------------------------ the two environments

def features_above_baseline() -> list[str]:
    """numpy's dispatch targets that this CPU has, above the baseline numpy was built for."""
    from numpy._core import _multiarray_umath as umath

    baseline = set(umath.__cpu_baseline__)
    return [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f) and f not in baseline]


def portable_env() -> dict[str, str]:
    """The variables of the portable build (see the module docstring)."""
    env = {"OPENBLAS_CORETYPE": GENERIC_BLAS}
    features = features_above_baseline()
    if features:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(features)
    return env


def base_env() -> dict[str, str]:
    """This process's environment without the two variables, pinned as the Makefile pins it,
    with this checkout's code first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")}
    env.update(THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return env


def runtime(extra: dict[str, str] | None = None) -> dict:
    """What numpy and OpenBLAS use in a fresh interpreter under ``extra``."""
    done = subprocess.run([sys.executable, "-c", RUNTIME_PROBE], env={**base_env(), **(extra or {})},
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def check_portable(native: dict, portable: dict, env: dict[str, str]) -> list[str]:
    """Problems with the portable environment: a feature still on, a BLAS not on generic kernels."""
    problems = []
    for feature in env.get("NPY_DISABLE_CPU_FEATURES", "").split():
        if portable["features"].get(feature):
            problems.append(f"numpy still uses {feature} with NPY_DISABLE_CPU_FEATURES={env['NPY_DISABLE_CPU_FEATURES']!r}")
        if feature in shown_found(portable["show_runtime"]):
            problems.append(f"numpy.show_runtime() lists {feature} as found")
    if not portable["blas"]:
        problems.append("no OpenBLAS found by threadpoolctl")
    for lib in portable["blas"]:
        if str(lib["architecture"]).lower() not in GENERIC_BLAS_NAMES:
            problems.append(f"{lib['prefix']} {lib['version']} runs {lib['architecture']} kernels, "
                            f"not {GENERIC_BLAS}, with OPENBLAS_CORETYPE={GENERIC_BLAS}")
    if len(native["blas"]) != len(portable["blas"]):
        problems.append("the two environments load different BLAS libraries")
    return problems


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
    """A fresh copy of what a build reads, in ``dest``; returns the params path inside it."""
    if dest.exists():
        shutil.rmtree(dest)
    for part in PROJECT_PARTS:
        shutil.copytree(ROOT / part, dest / part)
    corpus = ROOT / "data" / "raw" / "news-articles"
    if corpus.exists():
        (dest / "data" / "raw" / "news-articles").symlink_to(corpus.resolve(), target_is_directory=True)
    run = params.stem
    identities = ROOT / "reports" / run / "topics.json"
    if identities.exists():
        (dest / "reports" / run).mkdir(parents=True)
        shutil.copy2(identities, dest / "reports" / run / "topics.json")
    return dest / params.resolve().relative_to(ROOT.resolve())


def build(root: Path, params: Path, extra: dict[str, str], log) -> float:
    """Every stage of the run, executed and rendered, in ``root``; returns the seconds taken."""
    env = {**base_env(), **extra, "NEWSLENS_ROOT": str(root)}
    relative = params.relative_to(root).as_posix()
    started = time.perf_counter()
    for stage in STAGES:
        for command in ("stage", "render"):
            done = subprocess.run([sys.executable, "-m", "newslens.pipeline", command, relative, stage],
                                  cwd=root, env=env, capture_output=True, text=True, timeout=3600)
            if done.returncode:
                raise RuntimeError(f"{command} {stage} failed in {root.name}:\n{done.stderr[-3000:]}")
        log(f"  {root.name}: {stage} done ({time.perf_counter() - started:.0f} s)")
    return time.perf_counter() - started


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
    parser.add_argument("--params", default="params/news.yaml", help="the run to build (default: the news run)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the two builds go")
    parser.add_argument("--show-env", action="store_true", help="only show and check the two environments")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/CPU_PATHS.md")
    args = parser.parse_args(argv)
    log = lambda message: print(message, flush=True)  # noqa: E731

    extra = portable_env()
    native, portable = runtime(), runtime(extra)
    problems = check_portable(native, portable, extra)
    env_text = " ".join(f"{k}={v!r}" if " " in v else f"{k}={v}" for k, v in sorted(extra.items()))
    log(f"native:   {describe(native)}")
    log(f"portable: {env_text}\n          {describe(portable)}")
    if "NPY_DISABLE_CPU_FEATURES" not in extra:
        log("note: this CPU has no numpy feature above the baseline; only the BLAS kernels differ")
    if problems:
        log("the portable environment did not take effect:\n  " + "\n  ".join(problems))
        return 2
    if args.show_env:
        log(portable["show_runtime"])
        return 0

    params = (ROOT / args.params).resolve()
    run = params.stem
    roots, seconds = {}, {}
    for name, variables in (("native", {}), ("portable", extra)):
        roots[name] = args.work / run / name
        project_params = make_project(roots[name], params)
        log(f"building {run} ({name})")
        seconds[name] = build(roots[name], project_params, variables, log)
    names, differ = compare(roots["native"], roots["portable"], run)
    log(f"{len(names)} files compared, {len(differ)} differ")
    for name, what in differ.items():
        log(f"  DIFFERS {name}: {what}")

    if not args.no_write:
        write_markdown(HERE / "CPU_PATHS.md", run=run, env_text=env_text, native=native, portable=portable,
                       names=names, differ=differ, seconds=seconds, root=roots["native"])
    return 1 if differ else 0


def write_markdown(path: Path, *, run, env_text, native, portable, names, differ, seconds, root) -> None:
    lines = [
        "# Outputs under two sets of CPU code paths",
        "",
        f"`benchmarks/cpu_paths.py --params params/{run}.yaml`, {_dt.date.today():%d %B %Y}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| build | environment | what numpy and OpenBLAS said | time |",
        "| --- | --- | --- | --- |",
        f"| native | as is | {describe(native)} | {seconds['native']:.0f} s |",
        f"| portable | `{env_text}` | {describe(portable)} | {seconds['portable']:.0f} s |",
        "",
        f"**{len(names) - len(differ)} of {len(names)} files identical** "
        f"(`data/processed/{run}/`, `build/{run}/*.ipynb`, `reports/{run}/`).",
        "",
    ]
    if differ:
        lines += ["| file | what differs |", "| --- | --- |"] + [f"| `{n}` | {w} |" for n, w in differ.items()] + [""]
    lines += ["| file | sha256 (native build) |", "| --- | --- |"]
    for name in names:
        file = root / name
        if file.exists():
            lines.append(f"| `{name}` | `{sha256(file)[:16]}…` |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
