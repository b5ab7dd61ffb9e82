"""The stage notebooks compute nothing: their code cells call only setup, their stage's run() and the report layer.

A stage is one function in src (``run(stage_run) -> Result``); its notebook calls it once and hands the
result to functions of :mod:`newslens.report`. These checks walk each notebook's code cells (the
parameters cell aside) and refuse anything else: a call of another function or method, arithmetic,
a comparison, a branch or loop, a subscript, a comprehension, an f-string or a number.
"""

from __future__ import annotations

import ast
import json

import pytest

from newslens import config, stages

PRESENTATION = "newslens.report"
DATA_LAYERS = ("newslens.corpus", "newslens.text", "newslens.analysis", "newslens.report")
ALLOWED_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)
FORBIDDEN = {
    ast.BinOp: "arithmetic", ast.UnaryOp: "arithmetic", ast.BoolOp: "a boolean expression",
    ast.Compare: "a comparison", ast.IfExp: "a conditional", ast.Subscript: "a subscript",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension", ast.Lambda: "a lambda", ast.JoinedStr: "an f-string",
}


def code_cells(notebook: str) -> list[str]:
    """The sources of a notebook's code cells, the parameters cell excluded."""
    data = json.loads((config.PROJECT_ROOT / notebook).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in data["cells"]
            if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])]


def problems(cells: list[str]) -> list[str]:
    """What in ``cells`` is not setup, a stage's run() or a presentation call."""
    found: list[str] = []
    presentation: set[str] = set()
    stage_modules: set[str] = set()
    trees = [ast.parse(source) for source in cells]
    for tree in trees:  # the names the cells import, by layer
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(DATA_LAYERS):
                names = {alias.asname or alias.name for alias in node.names}
                (presentation if node.module == PRESENTATION else stage_modules).update(names)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(f"line {node.lineno}: imports {ast.unparse(node)}, which is not a module of a layer")
    for index, tree in enumerate(trees, start=1):
        where = f"cell {index}"
        for statement in tree.body:
            if not isinstance(statement, ALLOWED_STATEMENTS):
                found.append(f"{where}: a {type(statement).__name__.lower()} statement")
            if isinstance(statement, ast.Assign) and not all(isinstance(t, ast.Name) for t in statement.targets):
                found.append(f"{where}: assigns to {ast.unparse(statement.targets[0])}")
        for node in ast.walk(tree):
            if type(node) in FORBIDDEN:
                found.append(f"{where}: {FORBIDDEN[type(node)]}, {ast.unparse(node)[:60]}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                    and not isinstance(node.value, bool):
                found.append(f"{where}: the number {node.value!r}; name it in the report layer")
            elif isinstance(node, ast.Call):
                found += [f"{where}: calls {ast.unparse(node.func)}"] if not _allowed(
                    node.func, presentation, stage_modules) else []
    return found


def _allowed(func: ast.expr, presentation: set[str], stage_modules: set[str]) -> bool:
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return False
    owner, name = func.value.id, func.attr
    return owner in presentation or (owner in stage_modules and name == "run")


@pytest.mark.parametrize("item", stages.STAGES, ids=lambda s: s.name)
def test_a_stage_notebook_calls_setup_its_run_and_the_report_layer_only(item):
    cells = code_cells(item.notebook)
    assert problems(cells) == []
    calls = [ast.unparse(n.func) for c in cells for n in ast.walk(ast.parse(c)) if isinstance(n, ast.Call)]
    assert calls[0] == "notebook.setup"
    assert sum(call.endswith(".run") for call in calls) <= 1


@pytest.mark.parametrize("planted, expected", [
    ("total = result.documents['n_words'].sum()", "a subscript"),
    ("share = result.count / 2", "arithmetic"),
    ("if result.count:\n    markup.show_text('many')", "a if statement"),
    ("import pandas as pd\nframe = pd.DataFrame()", "calls pd.DataFrame"),
    ("from newslens.analysis import keywords\nkeywords.fit_tfidf(result)", "calls keywords.fit_tfidf"),
    ("plots.barh(result.terms, cut=0.01)", "the number 0.01"),
    ("markup.show_text(f'{result.count} documents')", "an f-string"),
])
def test_a_planted_computation_is_caught(planted, expected):
    cells = code_cells(stages.stage("03-keywords").notebook) + [planted]
    assert any(expected in problem for problem in problems(cells)), problems(cells)
