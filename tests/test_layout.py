"""The packages import downwards only, in the documented order, and no module reaches into
another module's private names (read from the source's AST, function-level imports included)."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "jaxdl"

# The documented order (docs/layers.md, "The layout"): a module may import from its own package
# and from packages of a lower level only.
LEVELS = {
    "jaxdl.errors": 0,
    "jaxdl.fileio": 1, "jaxdl.config": 1, "jaxdl.labspec": 1, "jaxdl.render": 1, "jaxdl.analysis": 1,
    "jaxdl.core": 2,
    "jaxdl.layers": 3, "jaxdl.losses": 3, "jaxdl.flax": 3,
    "jaxdl.models": 4,
    "jaxdl.registry": 5,
    "jaxdl.check": 6,
    "jaxdl": 7,  # the package's face re-exports core and check
    # The exams package's rooms, bottom up: the records and the languages; the shared helpers; the
    # variants' machinery; one package per problem (PROBLEM_LEVEL: none imports another); the
    # registry and the package's face; then what reads only the registry.
    "jaxdl.exams.problem": 8.0, "jaxdl.exams.lang": 8.0,
    "jaxdl.exams._common": 8.1, "jaxdl.exams.figures": 8.1, "jaxdl.exams.torch_answers": 8.1,
    "jaxdl.exams.variants": 8.2,
    "jaxdl.exams.registry": 8.4,
    "jaxdl.exams": 8.5,
    "jaxdl.exams.sheet": 8.6, "jaxdl.exams.moodle": 8.7, "jaxdl.exams.generate": 8.8, "jaxdl.exams.practice": 8.85,
    "jaxdl.exams.command": 8.9,
    "jaxdl.train": 9,
    "jaxdl.bench": 10,
    "jaxdl.report": 11,
    "jaxdl.site": 12, "jaxdl.docs": 12,
    "jaxdl.cli": 13,
}


PROBLEM_LEVEL = 8.3
for _path in (PACKAGE / "exams").iterdir():  # every problem's package is a room of its own
    if (_path / "__init__.py").is_file() and f"jaxdl.exams.{_path.name}" not in LEVELS:
        LEVELS[f"jaxdl.exams.{_path.name}"] = PROBLEM_LEVEL


def _unit(module: str) -> str:
    """The layered unit a module belongs to: its longest prefix in LEVELS."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in LEVELS:
            return ".".join(parts[:i])
    raise KeyError(module)


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield ".".join(parts), is_package, ast.parse(path.read_text(), str(path))


def _imports(module: str, is_package: bool, tree):
    """``(line, imported module, names)`` of every jaxdl import in the module."""
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "jaxdl":
                    yield node.lineno, a.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "jaxdl":
                yield node.lineno, target, [a.name for a in node.names]


MODULES = list(_modules())


def test_every_module_has_a_level():
    for module, _, _ in MODULES:
        assert _unit(module) in LEVELS, module


def _violations():
    found = []
    for module, is_package, tree in MODULES:
        here = _unit(module)
        for line, target, names in _imports(module, is_package, tree):
            units = {_unit(target)}
            folder = ROOT.joinpath(*target.split("."))
            if folder.is_dir() and names:  # `from jaxdl.exams import sheet` imports a module, not the face
                units = {_unit(f"{target}.{n}") if (folder / n).is_dir() or (folder / f"{n}.py").is_file()
                         else _unit(target) for n in names}
            for there in units:
                if there != here and LEVELS[there] >= LEVELS[here]:
                    found.append(f"{module}:{line} imports {target} ({there}, level {LEVELS[there]} ≥ {LEVELS[here]})")
            for name in names:
                if name.startswith("_") and not name.startswith("__") and target != module:
                    found.append(f"{module}:{line} imports the private name {name} from {target}")
    return found


def test_imports_point_down_and_no_private_name_crosses_a_module():
    assert _violations() == []


def _private_attributes():
    """``module._name`` where ``module`` was imported from jaxdl (e.g. ``trainer._loop``)."""
    found = []
    for module, is_package, tree in MODULES:
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("jaxdl") and a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom):
                for _, target, names in _imports(module, is_package, ast.Module([node], [])):
                    for a in node.names:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{module}:{node.lineno} reads {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_reads_another_modules_private_attributes():
    assert _private_attributes() == []


@pytest.mark.parametrize("bad, expected", [
    ("from jaxdl.cli import main", "jaxdl.layers.x:1 imports jaxdl.cli"),
    ("from jaxdl.core import _secret", "jaxdl.layers.x:1 imports the private name _secret from jaxdl.core"),
])
def test_the_rule_sees_an_upward_import_and_a_private_name(monkeypatch, bad, expected):
    monkeypatch.setattr(__import__(__name__), "MODULES", [("jaxdl.layers.x", False, ast.parse(bad))])
    assert any(v.startswith(expected) for v in _violations())


def test_the_rule_sees_a_private_attribute_read(monkeypatch):
    bad = "from jaxdl.train import trainer\nstep = trainer._loop\n"
    monkeypatch.setattr(__import__(__name__), "MODULES", [("jaxdl.bench.x", False, ast.parse(bad))])
    assert _private_attributes() == ["jaxdl.bench.x:2 reads jaxdl.train.trainer._loop"]


def test_a_problem_reaching_into_another_problem_or_up_into_the_registry_is_seen(monkeypatch):
    bad = "from jaxdl.exams.mlp import compute\nfrom jaxdl.exams import sheet\nfrom jaxdl.exams.registry import PROBLEMS\n"
    monkeypatch.setattr(__import__(__name__), "MODULES", [("jaxdl.exams.quiz.text", False, ast.parse(bad))])
    found = _violations()
    assert len(found) == 3 and all(v.startswith("jaxdl.exams.quiz.text:") for v in found)
    assert [v.split(" (")[1].split(",")[0] for v in found] == ["jaxdl.exams.mlp", "jaxdl.exams.sheet",
                                                                "jaxdl.exams.registry"]


def test_the_suites_longest_first_order_names_files_that_exist():
    import conftest

    tests = pathlib.Path(__file__).parent
    assert conftest._LONGEST and all((tests / name).is_file() for name in conftest._LONGEST)


def test_no_function_runs_past_about_80_lines_without_saying_why():
    long = []
    for module, _, tree in MODULES:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 85:
                doc = ast.get_docstring(node) or ""
                if not re.search(r"\blong\b", doc, re.I):
                    long.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []
