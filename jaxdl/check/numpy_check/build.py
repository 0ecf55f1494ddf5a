"""How each student class is built: which lab class it is, the constructor arguments the checker
passes, and the targets of one run (every class of the file, those ``--layer`` names, the
classes an assignment requires, the layers ``make_layers()`` builds).

The checker decides a class's configuration: the arguments of its
:class:`~jaxdl.labspec.LabClass` (or of a ``--layer`` expression or an assignment's ``build``),
bound to the student's own parameter names; the jaxdl layer it is compared with is built from
those same values, never from attributes the student's instance reports.
"""

from __future__ import annotations

import ast
import dataclasses

import numpy as np

from jaxdl.check.numpy_check import protocol as wire
from jaxdl.check.numpy_check.reference import lab_classes, lookup
from jaxdl.errors import InputError
from jaxdl.labspec import GENERIC_LAYER, GENERIC_LOSS, GENERIC_REGULARIZER, LabClass, Part

INPUT = "input_layer"  # the name an expression uses for the previous layer
INPUT_NAMES = ("input_layer", "prev_layer", "previous_layer", "inputs_layer", "prev", "previous", "input", "inputs",
               "in_layer", "layer_in", "parent")
NUM_INPUT_NAMES = ("num_inputs", "in_features", "input_size", "input_dim", "n_in", "in_dim")
WEIGHT_NAMES = ("weights", "W", "w", "weight", "params")
MAKE_LAYERS_CAP = 16  # layers make_layers() may build


class BuildError(Exception):
    """A class that cannot be built as the checker wants it: the class's failure, in words."""


class _Input:
    """Stands for ``input_layer`` in a parsed expression."""

    def __repr__(self):
        return INPUT


INPUT_LAYER = _Input()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    """One thing to check in a submission."""

    name: str  # as the report names it: the class, or "make_layers()[i]"
    cls: str | None = None  # the student's class to build
    lab_name: str | None = None  # the jaxdl counterpart's registry name
    lab: LabClass | None = None
    args: tuple = ()  # from an expression: positional values (INPUT_LAYER for the previous layer)
    kwargs: tuple = ()  # ... and keyword values, as (name, value) pairs
    expr: str = ""
    make_layers: int | None = None
    points: float | None = None  # the assignment's points for the class
    all_or_nothing: bool = False


# --------------------------------------------------------------------------------------------
# Constructor expressions: "Swish(input_layer, name='s', beta=0.7)".


def _literal(node: ast.AST, text: str):
    if isinstance(node, ast.Name) and node.id == INPUT:
        return INPUT_LAYER
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise InputError(f"check-numpy: in {text!r}, {ast.unparse(node)!r} is not a literal value "
                         f"(numbers, strings, tuples, lists, True/False/None, or {INPUT})") from None
    return value


def parse_call(text: str) -> tuple[str, tuple, tuple]:
    """``(class name, positional values, keyword pairs)`` of a constructor call written as text.

    Raises:
      InputError: text that is not one call of a class name with literal arguments.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise InputError(f"check-numpy: {text!r} is not a constructor call like "
                         "'Swish(input_layer, name=\"s\", beta=1.5)'") from None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise InputError(f"check-numpy: {text!r} is not a constructor call like "
                         "'Swish(input_layer, name=\"s\", beta=1.5)'")
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        raise InputError(f"check-numpy: {text!r}: write each argument out (no * or **)")
    args = tuple(_literal(a, text) for a in call.args)
    kwargs = tuple((k.arg, _literal(k.value, text)) for k in call.keywords)
    return call.func.id, args, kwargs


def check_expression(text: str) -> None:
    """Refuses a constructor expression the checker cannot build: one with arguments for a
    composite (RegularizedLoss), whose parts the checker builds itself.

    Raises:
      InputError: one line, before any work.
    """
    cls, args, kwargs = parse_call(text)
    found = lookup(cls)
    if found and found[1].kind == "composite" and (args or kwargs):
        raise InputError(f"check-numpy: {text!r}: the checker builds {cls} from its parts itself (its own and the "
                         f"file's); name the class alone: {cls}")


# --------------------------------------------------------------------------------------------
# Which classes a run checks.


def _generic_values() -> dict:
    """Values for the constructor parameters of classes jaxdl does not know, by name: every lab
    class's arguments and their other names."""
    values = {}
    for lab in lab_classes().values():
        if lab.kind == "composite":  # its arguments are parts, never a plain value
            continue
        for arg, value in lab.args.items():
            for spelling in lab.spellings(arg):
                values.setdefault(spelling, value)
    return values


def lab_of(class_name: str, info: dict | None = None) -> tuple[str | None, LabClass]:
    """The lab class a student's class stands for, or the generic kind its signature suggests."""
    found = lookup(class_name)
    if found:
        return found
    init = [p[0] for p in (info or {}).get("init") or [] if isinstance(p, list) and p]
    for name, lab in lab_classes().items():  # a composite under a name of the student's own
        if lab.kind == "composite" and all(any(s in init for s in lab.spellings(a)) for a in lab.args):
            return name, lab
    if "weights" in init or "regulariz" in class_name.lower():
        return None, GENERIC_REGULARIZER
    if len((info or {}).get("forward") or []) >= 2:
        return None, GENERIC_LOSS
    return None, GENERIC_LAYER


def targets(loaded: dict, layer_args=(), assignment: dict | None = None) -> tuple[list[Target], str]:
    """What to check in a loaded file, and a note (``make_layers()`` that failed or built too many)."""
    classes = [c for c in loaded.get("classes", []) if isinstance(c, dict) and isinstance(c.get("name"), str)]
    by_name = {c["name"]: c for c in classes}
    out: list[Target] = []
    if assignment:
        for name, spec in assignment.items():
            found = by_name.get(name)
            lab_name, lab = lab_of(name, found)
            args, kwargs = spec.get("args", ()), spec.get("kwargs", ())
            out.append(Target(name=name, cls=name if found else None, lab_name=lab_name, lab=lab, args=args,
                              kwargs=kwargs, expr=spec.get("build", ""), points=spec.get("points"),
                              all_or_nothing=spec.get("all_or_nothing", False)))
        return out, ""
    if layer_args:
        for arg in layer_args:
            if arg.isidentifier():
                found = by_name.get(arg)
                lab_name, lab = lab_of(arg, found)
                out.append(Target(name=arg, cls=arg if found else None, lab_name=lab_name, lab=lab))
            else:
                cls, args, kwargs = parse_call(arg)
                lab_name, lab = lab_of(cls, by_name.get(cls))
                out.append(Target(name=cls, cls=cls if cls in by_name else None, lab_name=lab_name, lab=lab,
                                  args=args, kwargs=kwargs, expr=arg))
        return out, ""
    n = loaded.get("make_layers", 0)
    made = loaded.get("make_layers_classes") if isinstance(loaded.get("make_layers_classes"), list) else []
    for c in classes:
        lab_name, lab = lab_of(c["name"], c)
        if lab_name is None and c["name"] in made and type(n) is int and 0 < n <= MAKE_LAYERS_CAP:
            continue  # a class of the student's own that make_layers() builds: checked as built there
        out.append(Target(name=c["name"], cls=c["name"], lab_name=lab_name, lab=lab))
    note = ""
    if isinstance(n, str):
        note = wire.text(n)
    elif type(n) is int and n > MAKE_LAYERS_CAP:
        note = f"make_layers() built {n} layers; at most {MAKE_LAYERS_CAP} are checked"
    elif type(n) is int and n > 0:
        out += [Target(name=f"make_layers()[{i}]", make_layers=i, lab=GENERIC_LAYER) for i in range(n)]
    return out, note


# --------------------------------------------------------------------------------------------
# One construction.


def constructor_call(target: Target, info: dict, input_shape, weights: np.ndarray | None = None,
                     overrides: dict | None = None) -> tuple[dict, dict, str]:
    """``(keyword arguments, config, built_as)`` for building ``target`` with the student's
    signature ``info["init"]``: the checker's values bound to the student's parameter names.
    ``config`` is what the jaxdl counterpart is built from; ``built_as`` the call in words.

    Raises:
      BuildError: a parameter the checker has no value for, or a lab argument the constructor lacks.

    Long because it reads every way the lab's constructors spell their arguments, one case after
    another, in the order the checker tries them.
    """
    init = info.get("init")
    if not isinstance(init, list):
        raise BuildError("its constructor's signature cannot be read")
    params = [(p[0], p[1], bool(p[2])) for p in init if isinstance(p, list) and len(p) == 3 and isinstance(p[0], str)]
    lab = target.lab or GENERIC_LAYER
    known = lab.names != ()
    given = {}
    positional = [p for p in params if p[1] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    if len(target.args) > len(positional):
        raise BuildError(f"{target.expr!r} passes {len(target.args)} positional arguments; the constructor takes "
                         f"{len(positional)}")
    for (pname, _, _), value in zip(positional, target.args):
        given[pname] = value
    given.update(dict(target.kwargs))
    given.update(overrides or {})
    names = {p[0] for p in params}
    takes_kwargs = any(p[1] == "VAR_KEYWORD" for p in params)
    config = {}
    kwargs = {}
    spelled = {}
    structural = set(INPUT_NAMES) | set(NUM_INPUT_NAMES) | {"name"} | (set(WEIGHT_NAMES) if weights is not None else set())
    known_names = structural | {s for a in lab.args for s in lab.spellings(a)} | set(given)
    unknown_required = [p[0] for p in params if p[1] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")
                        and not p[2] and p[0] not in known_names]
    if lab.kind == "composite" and given:
        raise BuildError(f"the checker builds {lab.names[0]} from its parts itself; it takes no arguments from an "
                         "expression")
    for arg, value in lab.args.items():  # the lab's arguments, under the student's spelling
        spelling = next((s for s in lab.spellings(arg) if s in names), None)
        chosen = next((given[s] for s in lab.spellings(arg) if s in given), value)
        if spelling is None and len(lab.args) == 1 and len(unknown_required) == 1:
            spelling = unknown_required.pop()  # the class's one hyperparameter, under a name of the student's own
        if spelling is None and lab.kind == "composite" and unknown_required:
            spelling = unknown_required.pop(0)  # a composite's parts, in the lab's order, under names of its own
        if spelling is None and takes_kwargs:
            spelling = arg
        if spelling is not None:
            spelled[spelling] = chosen
            config[arg] = chosen
        elif arg in lab.defaults:
            config[arg] = lab.defaults[arg]
        else:
            raise BuildError(f"the lab's {lab.names[0]} takes {arg}; this constructor has no parameter "
                             f"{' or '.join(repr(s) for s in lab.spellings(arg))}")
    generic = {} if known else _generic_values()
    for pname, pkind, has_default in params:
        if pkind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if pname in given and pname not in spelled:
            kwargs[pname] = given[pname]
        elif pname in spelled:
            kwargs[pname] = spelled[pname]
        elif pname in INPUT_NAMES:
            kwargs[pname] = INPUT_LAYER
        elif pname == "name":
            kwargs[pname] = (target.cls or target.name).lower()
        elif pname in NUM_INPUT_NAMES:
            kwargs[pname] = int(np.prod(input_shape[1:]))
        elif pname in WEIGHT_NAMES and weights is not None and not any(k in kwargs for k in WEIGHT_NAMES):
            kwargs[pname] = weights
        elif has_default:
            continue
        elif pname in generic:
            kwargs[pname] = generic[pname]
        else:
            raise BuildError(f"no value known for the constructor parameter {pname!r}")
    for spelling, value in spelled.items():
        kwargs.setdefault(spelling, value)
    for k, v in given.items():
        if k not in kwargs and takes_kwargs:
            kwargs[k] = v

    def shown(k, v):
        if v is INPUT_LAYER:
            return f"{k}=input_layer(shape={tuple(input_shape)})"
        if isinstance(v, np.ndarray):
            return f"{k}=<array {v.shape}>"
        if isinstance(v, tuple) and v and all(isinstance(p, Part) for p in v):
            return f"{k}=[{', '.join(map(repr, v))}]"
        return f"{k}={v!r}"

    built_as = f"{target.cls or target.name}({', '.join(shown(k, v) for k, v in kwargs.items())})"
    return kwargs, config, built_as


def encode_kwargs(kwargs: dict, input_shape, arrays: list | None = None) -> tuple[dict, list]:
    """The keyword arguments as the worker's ``build`` request carries them (their arrays appended
    to ``arrays``, a new list by default)."""
    arrays = [] if arrays is None else arrays
    out = {k: ({"$stub": list(input_shape)} if v is INPUT_LAYER else wire.encode_value(v, arrays))
           for k, v in kwargs.items()}
    return out, arrays


# --------------------------------------------------------------------------------------------
# The assignment: which classes must exist, how each is built, its points.


def load_assignment(path: str | None, require: str | None) -> dict | None:
    """``{class name: {"build", "args", "kwargs", "points", "all_or_nothing"}}`` from an
    assignment file (TOML) and/or ``--require FC,ReLU``; None when neither is given.

    Raises:
      InputError: an unknown class, a constructor argument the lab class does not take, a
        malformed file (one line, before any submission runs).
    """
    if require is not None and not [n for n in require.split(",") if n.strip()] and not path:
        raise InputError(f"check-numpy --require: expected class names separated by commas, e.g. FC,ReLU; got "
                         f"{require!r}")
    if not path and not require:
        return None
    tables: dict = {}
    if path:
        import tomllib  # Python 3.11; the standalone checker (3.9+) carries its assignment already read

        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except OSError as e:
            raise InputError(f"check-numpy --assignment: cannot read {path!r}: {e.strerror or e}") from None
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"check-numpy --assignment: {path!r} is not valid TOML: {e}") from None
        for name, table in data.items():
            if not isinstance(table, dict):
                raise InputError(f"check-numpy --assignment: {path!r}: [{name}] must be a table of build, points, "
                                 f"all_or_nothing; got {type(table).__name__}")
            unknown = set(table) - {"build", "points", "all_or_nothing"}
            if unknown:
                raise InputError(f"check-numpy --assignment: [{name}] has unknown key {sorted(unknown)[0]!r}; "
                                 "expected build, points, all_or_nothing")
            tables[name] = dict(table)
    for name in (n.strip() for n in (require or "").split(",")):
        if name:
            tables.setdefault(name, {})
    out = {}
    known = {n: lab for lab in lab_classes().values() for n in lab.names}
    for name, table in tables.items():
        found = lookup(name)
        if found is None:
            raise InputError(f"check-numpy: unknown class {name!r} in the assignment; known: {', '.join(sorted(known))}")
        _, lab = found
        spec = {"points": None, "all_or_nothing": bool(table.get("all_or_nothing", False)), "args": (), "kwargs": (),
                "build": ""}
        points = table.get("points")
        if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0):
            raise InputError(f"check-numpy: [{name}] points must be a number >= 0; got {points!r}")
        spec["points"] = None if points is None else float(points)
        if "build" in table and lab.kind == "composite":
            raise InputError(f"check-numpy: [{name}] build: the checker builds {name} from its parts itself (its own "
                             "and the file's); give its points only")
        if "build" in table:
            build = table["build"]
            if not isinstance(build, str):
                raise InputError(f"check-numpy: [{name}] build must be a constructor call as text; got {build!r}")
            cls, args, kwargs = parse_call(build)
            if cls != name:
                raise InputError(f"check-numpy: [{name}] build calls {cls}, not {name}")
            allowed = {s for a in lab.args for s in lab.spellings(a)} | set(INPUT_NAMES) | {"name"} | set(NUM_INPUT_NAMES)
            if lab.kind == "regularizer":
                allowed |= set(WEIGHT_NAMES)
            bad = [k for k, _ in kwargs if k not in allowed]
            if bad:
                raise InputError(f"check-numpy: [{name}] build passes {bad[0]!r}, which the lab's {name} does not take; "
                                 f"it takes {', '.join(sorted(allowed))}")
            spec.update(build=build, args=args, kwargs=kwargs)
        out[name] = spec
    return out
