"""The measuring harness: timing with a budget, peak RSS of a process tree, subprocess drivers."""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from benchmarks import THREAD_ENV

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_WORK = HERE / "work"
RESULT_TAG = "BENCH_RESULT "

log = logging.getLogger("bench")

# =============================================================================== small helpers

def setup_logging(prefix: str = "") -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s {prefix}%(message)s", datefmt="%H:%M:%S")
    for noisy in ("newslens", "gensim", "smart_open", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def short_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}"


def error_record(exc: BaseException) -> dict:
    return {"error": short_error(exc), "traceback": traceback.format_exc()[-3000:]}


def maxrss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (Linux reports KiB).

    This process's is ``VmHWM`` of ``/proc/self/status``, not ``ru_maxrss``: Linux keeps that
    across ``execve``, so a measurement started by a parent that had built the ×64 corpus reported
    the parent's 2.3 GB as its own. ``VmHWM`` belongs to the process's own memory map, new at
    ``execve``. Children's (``RUSAGE_CHILDREN``), and elsewhere than Linux: ``ru_maxrss``.
    """
    if who == resource.RUSAGE_SELF:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        except OSError:
            pass
    return resource.getrusage(who).ru_maxrss / 1024.0


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def rel(path: str | Path) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def rel_path(path: str) -> str:
    """A path as given, relative to the project root when inside it (no symlink resolution: .venv/bin/python)."""
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, ROOT) if absolute.startswith(str(ROOT) + os.sep) else path


def fmt_s(value) -> str:
    """Seconds with about three significant digits; "–" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def median_of(measurement: dict | None) -> float | None:
    """The median of a measurement record (None when it failed or did not run)."""
    if not measurement or "median" not in measurement:
        return None
    return measurement["median"]


def ratio_of(ours: float | None, anchor: float | None) -> float | None:
    """ours / anchor, or None when either is unknown."""
    if ours is None or anchor is None or anchor <= 0:
        return None
    return ours / anchor


# =============================================================================== measuring

def shutdown_loky() -> None:
    """Stop joblib's reusable loky workers, so the next parallel call pays its start-up as a fresh run does."""
    try:
        from joblib.externals.loky import reusable_executor

        executor = getattr(reusable_executor, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
    except Exception:  # noqa: BLE001 - best effort; a live pool only makes the repeat a bit faster
        pass


def measure(function, *, repeats: int, budget: float, before=None, keep_first=None, label: str = "") -> dict:
    """Run ``function`` up to ``repeats`` times; the median of the wall times (perf_counter).

    A repeat is skipped when the time spent so far plus the last run would exceed ``budget``
    seconds (at least one run always happens): at large scales a cell runs once, not three times.
    ``before()`` runs untimed before each repeat; ``keep_first(result)`` runs untimed on the first result.
    """
    times: list[float] = []
    try:
        for index in range(repeats):
            if before is not None:
                before()
            gc.collect()
            start = time.perf_counter()
            result = function()
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            if index == 0 and keep_first is not None:
                keep_first(result)
            del result
            log.info("  %-28s run %d/%d: %s s", label, index + 1, repeats, fmt_s(elapsed))
            if sum(times) + elapsed > budget and index + 1 < repeats:
                log.info("  %-28s cell budget %.0f s reached: %d run(s)", label, budget, len(times))
                break
    except Exception as exc:  # noqa: BLE001 - recorded, the bench goes on
        log.error("  %s failed: %s", label, short_error(exc))
        record = error_record(exc)
        if times:
            record.update(times=times, median=statistics.median(times), n=len(times))
        return record
    return {"times": times, "median": statistics.median(times), "n": len(times)}


class PeakTreeRSS:
    """Sample the summed RSS of this process and all its descendants (loky workers) every ``interval`` s.

    With ``guard_bytes``, a sum above it ends this cell at once (workers killed, an error result printed,
    the process exits): a runaway ×16 stage must not push a shared machine into swap or the OOM killer.
    """

    def __init__(self, interval: float = 0.1, guard_bytes: float | None = None, record: dict | None = None):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self.guard_bytes, self.record = guard_bytes, record
        self._thread = threading.Thread(target=self._run, daemon=True)
        try:
            import psutil

            self._process = psutil.Process()
        except Exception:  # noqa: BLE001 - psutil is optional
            self._process = None

    def _sample(self) -> int:
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # noqa: BLE001 - the child just exited
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._sample())
            except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                pass
            if self.guard_bytes and self.peak > self.guard_bytes:
                self._abort()
            self._stop.wait(self.interval)

    def _abort(self) -> None:
        gib = self.peak / 2**30
        message = f"memory guard: process tree RSS reached {gib:.1f} GiB (> {self.guard_bytes / 2**30:.1f} GiB); cell stopped"
        log.error(message)
        for child in self._process.children(recursive=True):
            try:
                child.kill()
            except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
                pass
        record = dict(self.record or {})
        record.update(error=message, rss={"peak_mib": round(self.peak / 2**20, 1), "guard_hit": True,
                                          "self_peak_mib": round(maxrss_mib(), 1)})
        sys.stdout.write(RESULT_TAG + json.dumps(record, default=str) + "\n")
        sys.stdout.flush()
        os._exit(3)

    def __enter__(self):
        if self._process is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._process is not None:
            self._thread.join()

    @property
    def peak_mib(self) -> float | None:
        return self.peak / 2**20 if self._process is not None and self.peak else None


def measure_ours(function, args, **kwargs) -> tuple[dict, dict]:
    """Time our function and report the process's peak RSS over those runs (before any anchor runs)."""
    baseline = maxrss_mib()
    guard = args.mem_guard_gib * 2**30 if args.mem_guard_gib else None
    with PeakTreeRSS(guard_bytes=guard, record={"stage": args.stage, "scale": args.scale}) as tree:
        result = measure(function, repeats=args.repeats, budget=args.cell_budget, **kwargs)
    shutdown_loky()  # reaps the workers, so RUSAGE_CHILDREN covers them
    rss = {"baseline_mib": round(baseline, 1), "self_peak_mib": round(maxrss_mib(), 1),
           "tree_peak_mib": None if tree.peak_mib is None else round(tree.peak_mib, 1),
           "children_peak_mib": round(maxrss_mib(resource.RUSAGE_CHILDREN), 1)}
    rss["peak_mib"] = max(v for v in (rss["self_peak_mib"], rss["tree_peak_mib"]) if v is not None)
    return result, rss


def subprocess_env(extra: dict | None = None) -> dict:
    env = {**os.environ, **THREAD_ENV, "TQDM_DISABLE": "1"}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def run_command(cmd: list[str], *, env: dict, cwd: Path, timeout: float, prefix: str = "") -> dict:
    """Run a command in its own process group; stream its stderr to ours; keep stdout and a stderr tail."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    tail: list[str] = []

    def pump():
        for line in process.stderr:
            tail.append(line)
            del tail[:-60]
            sys.stderr.write(prefix + line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    stdout_chunks: list[str] = []
    out_reader = threading.Thread(target=lambda: stdout_chunks.append(process.stdout.read()), daemon=True)
    out_reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(process.pid, 9)  # only the group this bench started
        except ProcessLookupError:
            pass
        process.wait()
    reader.join(timeout=10)
    out_reader.join(timeout=10)
    return {"returncode": process.returncode, "seconds": time.perf_counter() - start, "timed_out": timed_out,
            "stdout": "".join(stdout_chunks), "stderr_tail": "".join(tail)}


def run_driver(stage: str, scale: int, args, *, extra_env: dict | None = None, extra_args=(),
               cwd: Path = ROOT) -> dict:
    """Run one cell as ``python -m benchmarks --stage STAGE --scale SCALE``; its ``BENCH_RESULT`` record."""
    cmd = [sys.executable, "-m", "benchmarks", "--stage", stage, "--scale", str(scale),
           "--repeats", str(args.repeats), "--cell-budget", str(args.cell_budget), "--work", str(args.work),
           "--max-anchor-scale", str(args.max_anchor_scale), "--gensim-max-scale", str(args.gensim_max_scale),
           "--mem-guard-gib", str(args.mem_guard_gib),
           "--scales", *map(str, args.scales), *extra_args]
    env = subprocess_env(extra_env)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env["PYTHONPATH"]  # the benchmarks package, from any cwd
    done = run_command(cmd, env=env, cwd=cwd, timeout=args.driver_timeout)
    lines = [line for line in done["stdout"].splitlines() if line.startswith(RESULT_TAG)]
    if lines:
        record = json.loads(lines[-1][len(RESULT_TAG):])
    else:
        reason = "timed out" if done["timed_out"] else f"exit code {done['returncode']}"
        record = {"stage": stage, "scale": scale, "error": f"driver gave no result ({reason})",
                  "stderr_tail": done["stderr_tail"][-3000:]}
    record["wall_s"] = round(done["seconds"], 3)
    return record


def machine_info() -> dict:
    import numpy
    import pandas
    import scipy
    import sklearn

    info = {"nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "pandas": pandas.__version__, "thread_env": {k: os.environ.get(k) for k in THREAD_ENV}}
    for name in ("gensim", "joblib", "simplemma", "ftfy", "papermill"):
        try:
            info[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - any failure is logged and recorded; one part never stops the bench
            info[name] = None
    try:
        model = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        info["cpu"] = model[0] if model else platform.processor()
        mem = [line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")]
        info["mem_total_gib"] = round(int(mem[0].split()[1]) / 2**20, 1) if mem else None
    except OSError:
        pass
    return info


def default_mem_guard_gib() -> float:
    try:
        available = [line for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemAvailable")]
        return round(min(16.0, 0.8 * int(available[0].split()[1]) / 2**20), 1)
    except (OSError, IndexError, ValueError):
        return 16.0

