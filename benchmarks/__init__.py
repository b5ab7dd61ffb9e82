"""newslens benchmarks: each stage's compute against the bare libraries, at 1×, 4× and 16× the news run.

At ×N the news CSV has N × its rows: the originals and N − 1 distinct replicas of each (new articles
made of sentences of the same outlet's other articles, :func:`benchmarks.workloads.make_replicas`),
and the later stages get ingest's output of it. Also: the k sweep against today's exhaustive one
(×1, ×16), a cold ``make report PARAMS=params/news.yaml`` against ``benchmarks/bare_report.py``, and
the notebook layer's overhead.

Usage (from the project root, with ``PYTHONPATH=src``; ``make bench`` runs the first line with fewer anchors)::

    .venv/bin/python -m benchmarks                      # scales 1 4 16, 3 repeats
    .venv/bin/python -m benchmarks --quick              # scale 1, 1 repeat: a smoke test
    .venv/bin/python -m benchmarks --sections stages    # only some sections (stages, sweep, report, overhead)

Writes ``benchmarks/results.json`` (every raw number) and ``benchmarks/RESULTS.md`` (tables,
ratios, targets MET / NOT MET). Inputs and intermediate files go to ``benchmarks/work/``
(git-ignored), rebuilt on every run. What is measured and how to read it: ``benchmarks/README.md``.

Every (stage, scale) cell runs in its own process, the *driver*::

    .venv/bin/python -m benchmarks --stage tokenize --scale 16

which times our function ``--repeats`` times, then reads its peak RSS, then times the anchors on the
same inputs, and prints one ``BENCH_RESULT {json}`` line. A failing cell or anchor is recorded as an
error; the bench goes on.

Modules: :mod:`~benchmarks.harness` (timing, memory, subprocesses), :mod:`~benchmarks.workloads`
(inputs at ×N and the stage chain), :mod:`~benchmarks.cells` (our cells and their anchors),
:mod:`~benchmarks.report_timing` (cold ``make report`` and the notebook overhead),
:mod:`~benchmarks.targets`, :mod:`~benchmarks.markdown` (RESULTS.md) and the command line.
"""

from __future__ import annotations

import os

# Single-threaded BLAS, as the Makefile exports it (timings stay reproducible; stages parallelise
# themselves). Set before numpy is imported, here and in every subprocess.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "PYTHONHASHSEED": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
for _key, _value in THREAD_ENV.items():
    os.environ.setdefault(_key, _value)
