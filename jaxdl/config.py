"""Experiment and exam configs: Python files whose ``get_config()`` returns a ``ConfigDict``.

``load_config(path, overrides)`` imports the file, applies ``NAME=VALUE`` overrides (dotted names
reach nested fields: ``generator.W1=[[1.0], [2.0]]``) and locks the result. Values are parsed as
Python literals (numbers, lists, ``True``), anything else stays a string. An unknown field, a
value of the wrong kind or a file without ``get_config`` is a ``ValueError`` naming the field.

Example:
  >>> cfg = load_config("configs/exam_gan.py", ["learning_rate=0.5"])
  >>> cfg.learning_rate
  0.5
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from collections.abc import Sequence

import ml_collections

from jaxdl.errors import InputError

def config_dir() -> pathlib.Path:
    """The folder of jaxdl's own configs: ``configs/`` of the checkout, installed as the package
    ``jaxdl.configs`` (so a wheel without the checkout has them too)."""
    import importlib.resources

    return pathlib.Path(str(importlib.resources.files("jaxdl.configs")))


def default_config_path(name: str) -> pathlib.Path:
    """``configs/<name>.py`` among jaxdl's own configs."""
    return config_dir() / f"{name}.py"


def _import_get_config(path: pathlib.Path):
    if not path.is_file():
        raise InputError(f"config: no such file {str(path)!r}")
    spec = importlib.util.spec_from_file_location(f"jaxdl_config_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's file: report, don't trace back
        raise InputError(f"config: cannot load {str(path)!r}: {type(e).__name__}: {e}") from None
    get_config = getattr(module, "get_config", None)
    if not callable(get_config):
        raise InputError(f"config: {str(path)!r} defines no get_config()")
    cfg = get_config()
    if not isinstance(cfg, ml_collections.ConfigDict):
        raise InputError(
            f"config: get_config() in {str(path)!r} must return an ml_collections.ConfigDict; "
            f"got {type(cfg).__name__}"
        )
    return cfg


def parse_value(text: str):
    """``"0.5"`` → 0.5, ``"[1, 2]"`` → [1, 2], ``"True"`` → True, ``"minimax"`` → "minimax"."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def apply_override(cfg: ml_collections.ConfigDict, name: str, value) -> None:
    """Sets the existing field ``name`` (dotted) of ``cfg`` to ``value``; the kind must match."""
    *parents, leaf = name.split(".")
    node = cfg
    for i, part in enumerate(parents):
        if not isinstance(node, ml_collections.ConfigDict) or part not in node:
            raise InputError(f"config: unknown field {'.'.join(parents[:i + 1])!r}; known: {sorted(node.keys())}")
        node = node[part]
    if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
        known = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
        raise InputError(f"config: unknown field {name!r}; known: {known}")
    old = node[leaf]
    if isinstance(old, ml_collections.ConfigDict):
        raise InputError(f"config: {name!r} is a group of fields; set its fields ({name}.FIELD=...)")
    numeric = (int, float)
    same = (
        old is None
        or (isinstance(old, bool) and isinstance(value, bool))
        or (not isinstance(old, bool) and isinstance(old, numeric) and isinstance(value, numeric) and not isinstance(value, bool))
        or (isinstance(old, str) and isinstance(value, str))
        or (isinstance(old, (list, tuple)) and isinstance(value, (list, tuple)))
    )
    if not same:
        raise InputError(f"config: {name} expects {_kind(old)}; got {value!r}")
    if isinstance(old, float) and isinstance(value, int):
        value = float(value)
    if isinstance(old, int) and not isinstance(old, bool) and isinstance(value, float):
        if not value.is_integer():
            raise InputError(f"config: {name} expects an integer; got {value!r}")
        value = int(value)
    node[leaf] = value


def load_config(path, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
    """Loads ``get_config()`` from ``path``, applies ``NAME=VALUE`` overrides, returns it locked."""
    cfg = _import_get_config(pathlib.Path(path))
    for item in overrides:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise InputError(f"config: expected an override NAME=VALUE; got {item!r}")
        apply_override(cfg, name.strip(), parse_value(text.strip()))
    cfg.lock()
    return cfg


def to_config(fields: dict) -> ml_collections.ConfigDict:
    """A locked config from plain fields (nested dicts become nested configs): what a drawn
    variant of an exam problem is solved with."""
    cfg = ml_collections.ConfigDict(fields)
    cfg.lock()
    return cfg


def split_config_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separates ``--config.NAME=VALUE`` (or ``--config.NAME VALUE``) arguments from the rest.

    Returns ``(other_args, ["NAME=VALUE", ...])``.
    """
    rest, overrides = [], []
    argv = list(argv)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--config."):
            body = arg[len("--config."):]
            if "=" not in body:
                if i + 1 >= len(argv):
                    raise InputError(f"config: {arg} needs a value (--config.NAME=VALUE)")
                body = f"{body}={argv[i + 1]}"
                i += 1
            overrides.append(body)
        else:
            rest.append(arg)
        i += 1
    return rest, overrides
