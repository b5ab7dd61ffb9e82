"""Every committed run gives the same bytes whatever SIMD code paths numpy and OpenBLAS take.

On a CPU with AVX-512 (or AVX2) numpy dispatches its loops to wider SIMD code and OpenBLAS
picks other kernels; their results can end in other last bits, and a table or a chart that
showed them would differ from machine to machine, and `.ci/run`'s byte-for-byte rebuild of
``reports/`` with it. Each committed run (seed, Bundestag, news) is built once per code path
that this CPU can run (``benchmarks/cpu_paths.py``: native; OpenBLAS forced to its Prescott,
Haswell, Zen and SkylakeX kernels; numpy held to its SIMD baseline), every stage executed and
rendered, and every processed output, executed notebook and rendered report of each build must
be byte-identical to the native build's. A kernel this CPU cannot run, or one that runs the same
code as a path already built, is skipped with the reason.

This is the ``cpu_paths`` tier (``make check``), about 12 minutes on 2 cores.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from newslens import config, stages

pytestmark = pytest.mark.cpu_paths

STAGES = stages.NAMES


def load_cpu_paths():
    spec = importlib.util.spec_from_file_location("cpu_paths", config.PROJECT_ROOT / "benchmarks" / "cpu_paths.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cpu_paths = load_cpu_paths()
PATH_NAMES = [*cpu_paths.KERNELS, "numpy-baseline"]
RUNS = cpu_paths.COMMITTED_RUNS

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
def paths() -> dict[str, object]:
    found = {p.name: p for p in cpu_paths.code_paths()}
    for p in found.values():
        print(f"{p.name}: {'skipped: ' + p.skip if p.skip else cpu_paths.describe(p.info)}")
    return found


def path_or_skip(paths, name):
    path = paths[name]
    if path.skip:
        pytest.skip(f"{name} cannot be compared on this CPU: {path.skip}")
    return path


def test_the_code_path_rules():
    """A kernel the CPU lacks is skipped; a path that runs what another ran is a duplicate."""
    blas = {"prefix": "libscipy_openblas", "version": "0.3.30"}
    native = {"features": {"X86_V3": True}, "blas": [{**blas, "architecture": "Haswell"}], "show_runtime": ""}
    said = {"": native, "Prescott": {**native, "blas": [{**blas, "architecture": "Katmai"}]},
            "Haswell": native, "Zen": native}

    def probe(env):
        return said.get(env.get("OPENBLAS_CORETYPE", ""), native) if "NPY_DISABLE_CPU_FEATURES" not in env \
            else {**native, "features": {"X86_V3": False}}

    found = {p.name: p for p in cpu_paths.code_paths({"pni", "avx2", "fma"}, probe)}
    assert found["SkylakeX"].skip.startswith("this CPU lacks avx512")
    assert found["Haswell"].skip == "runs the same code as native (OpenBLAS kernels: haswell)"
    assert found["Zen"].skip.startswith("runs the same code as native")
    assert not found["Prescott"].skip
    # a kernel other than the one asked for is an environment that did not take effect
    said["Prescott"] = native
    with pytest.raises(RuntimeError, match="Prescott environment did not take effect"):
        cpu_paths.code_paths({"pni"}, probe)


@pytest.mark.parametrize("name", PATH_NAMES)
def test_the_code_path_takes_effect(paths, name):
    path = path_or_skip(paths, name)
    assert cpu_paths.check_environment(path) == []
    assert path.signature() != paths["native"].signature()


def test_the_stage_kernels_inherit_it(paths, tmp_path):
    """The stages run in a Jupyter kernel that papermill starts: it must see the same code paths."""
    path = path_or_skip(paths, "Prescott")
    env = {**cpu_paths.base_env(), **path.env}
    done = subprocess.run([sys.executable, "-c", KERNEL_PROBE, str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["blas"] and {a.lower() for a in seen["blas"]} <= cpu_paths.GENERIC_BLAS_NAMES


@pytest.fixture(scope="module")
def builds(paths, tmp_path_factory):
    """Every committed run under every code path to compare, two builds at a time."""
    work = tmp_path_factory.mktemp("cpu-paths")
    plans = [(run, p) for run in RUNS for p in paths.values() if not p.skip]
    return cpu_paths.build_all(plans, work, jobs=2, log=print)


@pytest.mark.parametrize("name", PATH_NAMES)
@pytest.mark.parametrize("run", RUNS)
def test_every_output_is_byte_identical(paths, builds, run, name):
    path_or_skip(paths, name)
    names, differ = cpu_paths.compare(builds[(run, "native")][0], builds[(run, name)][0], run)
    assert len([n for n in names if n.startswith(f"data/processed/{run}/")]) >= 15
    assert {f"reports/{run}/{stage}.html" for stage in STAGES} | {f"build/{run}/{stage}.ipynb" for stage in STAGES} \
        <= set(names)
    assert differ == {}, f"{run}: outputs differ between the native and the {name} code paths:\n" + \
        "\n".join(f"  {file}: {what}" for file, what in differ.items())
