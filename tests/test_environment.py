"""The conda environment.yml pins the same versions as requirements.lock."""

import re

import yaml

from newslens import config


def _lock() -> dict[str, str]:
    pins = {}
    for line in (config.PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _conda() -> dict[str, str]:
    spec = yaml.safe_load((config.PROJECT_ROOT / "environment.yml").read_text())
    pins = {}
    for entry in spec["dependencies"]:
        items = entry["pip"] if isinstance(entry, dict) else [entry]
        for item in items:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==?\s*([0-9][^\s]*)", item)
            if match:
                pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _direct_dependencies() -> set[str]:
    import tomllib

    project = tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {re.split(r"[<>=!~\[ ]", name)[0].lower() for name in names}


def test_environment_yml_pins_match_the_lock():
    lock, conda = _lock(), _conda()
    conda.pop("python")
    drift = {name: (version, lock.get(name)) for name, version in conda.items() if lock.get(name) != version}
    assert not drift, f"environment.yml and requirements.lock disagree: {drift}"


def test_every_direct_dependency_is_pinned_in_both():
    lock, conda = _lock(), _conda()
    direct = _direct_dependencies()
    assert direct - set(lock) == set(), "unpinned in requirements.lock"
    assert direct - set(conda) == set(), "missing from environment.yml"


def test_python_version_matches_pyproject():
    assert _conda()["python"] == "3.11"
