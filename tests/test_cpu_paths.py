"""The seed run gives the same bytes whatever SIMD code paths numpy and OpenBLAS take.

On a CPU with AVX-512 (or AVX2) numpy dispatches its loops to wider SIMD code and OpenBLAS
to other kernels; their results can end in other last bits, and a chart or a table that
showed those bits would differ from machine to machine. Two sandboxes run every stage of
params/seed.yaml and render every report:

* ``native``: as this machine is;
* ``portable``: numpy held to its baseline (``NPY_DISABLE_CPU_FEATURES`` = every dispatch
  target above the baseline that this CPU has) and OpenBLAS on its generic kernels
  (``OPENBLAS_CORETYPE=Prescott``);

and every processed output, executed notebook and rendered report must be byte-identical.
numpy ignores unknown names in ``NPY_DISABLE_CPU_FEATURES`` silently, so the test first checks,
in a fresh interpreter and in the notebook kernel the stages run in, that the features are
really off and the BLAS kernels really generic. The same comparison for the news run is
``benchmarks/cpu_paths.py`` (about 15 minutes; its last result is ``benchmarks/CPU_PATHS.md``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from newslens import config, stages

pytestmark = pytest.mark.slow

STAGES = stages.NAMES
PINNED = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def load_cpu_paths():
    spec = importlib.util.spec_from_file_location("cpu_paths", config.PROJECT_ROOT / "benchmarks" / "cpu_paths.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cpu_paths = load_cpu_paths()

KERNEL_PROBE = r"""
import json, sys
import nbformat, papermill
notebook = nbformat.v4.new_notebook()
notebook.cells.append(nbformat.v4.new_code_cell(
    "import json, threadpoolctl, scipy.linalg\n"
    "from numpy._core import _multiarray_umath as u\n"
    "print(json.dumps({'features': {k: bool(v) for k, v in u.__cpu_features__.items()},\n"
    "                  'blas': [i.get('architecture') for i in threadpoolctl.threadpool_info()\n"
    "                           if i.get('internal_api') == 'openblas']}))"))
nbformat.write(notebook, sys.argv[1])
papermill.execute_notebook(sys.argv[1], sys.argv[2], kernel_name="newslens", progress_bar=False)
print(nbformat.read(sys.argv[2], as_version=4).cells[0].outputs[0]["text"])
"""


@pytest.fixture(scope="module")
def portable_env() -> dict[str, str]:
    if "OPENBLAS_CORETYPE" in os.environ or os.environ.get("NPY_DISABLE_CPU_FEATURES"):
        pytest.skip("OPENBLAS_CORETYPE or NPY_DISABLE_CPU_FEATURES is already set: there is no native build to compare")
    env = cpu_paths.portable_env()
    if "NPY_DISABLE_CPU_FEATURES" not in env:
        note = ("this CPU has no numpy SIMD feature above numpy's baseline: the two builds differ "
                "in their OpenBLAS kernels only")
        print(note)
        warnings.warn(note)
    return env


def test_the_portable_environment_takes_effect(portable_env):
    native, portable = cpu_paths.runtime(), cpu_paths.runtime(portable_env)
    print("native:  ", cpu_paths.describe(native))
    print("portable:", portable_env, cpu_paths.describe(portable))
    assert cpu_paths.check_portable(native, portable, portable_env) == []
    disabled = portable_env.get("NPY_DISABLE_CPU_FEATURES", "").split()
    assert disabled == [f for f in native["dispatch"] if native["features"].get(f)
                        and f not in native["baseline"]]
    assert all(native["features"][f] and not portable["features"][f] for f in disabled)
    assert not set(disabled) & set(cpu_paths.shown_found(portable["show_runtime"]))
    assert {b["architecture"].lower() for b in portable["blas"]} <= cpu_paths.GENERIC_BLAS_NAMES


def test_the_stage_kernels_inherit_it(portable_env, tmp_path):
    """The stages run in a Jupyter kernel that papermill starts: it must see the same code paths."""
    done = subprocess.run([sys.executable, "-c", KERNEL_PROBE, str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb")],
                          env={**os.environ, **PINNED, **portable_env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for feature in portable_env.get("NPY_DISABLE_CPU_FEATURES", "").split():
        assert seen["features"][feature] is False
    assert seen["blas"] and {a.lower() for a in seen["blas"]} <= cpu_paths.GENERIC_BLAS_NAMES


@pytest.fixture(scope="module")
def builds(make_sandbox, run_pipeline, portable_env):
    plans = {"native": (make_sandbox("cpu-native"), {**PINNED, "NPY_DISABLE_CPU_FEATURES": ""}),
             "portable": (make_sandbox("cpu-portable"), {**PINNED, **portable_env})}

    def execute(plan):
        root, env = plan
        for stage in STAGES:  # a stage renders its report too
            done = run_pipeline(root, "stage", "params/seed.yaml", stage, env=env)
            assert done.returncode == 0, f"stage {stage} in {root.name}:\n{done.stderr[-3000:]}"
        return root

    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        return dict(zip(plans, pool.map(execute, plans.values())))


def test_every_output_is_byte_identical(builds):
    names, differ = cpu_paths.compare(builds["native"], builds["portable"], "seed")
    assert len([n for n in names if n.startswith("data/processed/")]) >= 15
    assert {f"reports/seed/{stage}.html" for stage in STAGES} | {f"build/seed/{stage}.ipynb" for stage in STAGES} \
        <= set(names)
    assert differ == {}, "outputs differ between the native and the portable code paths:\n" + \
        "\n".join(f"  {name}: {what}" for name, what in differ.items())
