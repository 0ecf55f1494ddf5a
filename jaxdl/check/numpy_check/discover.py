"""What to grade: the submissions under the paths given, and how to build each student class.

A path is a ``.py`` file (one submission) or a directory whose entries are submissions: each
``.py`` file directly inside it, and each subdirectory (a student's folder) whose entry file
(``layers.py`` unless told otherwise) is checked. Names starting with ``.`` or ``_`` are skipped.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from jaxdl.check.numpy_check.checks import IMAGE_SHAPE, VECTOR_SHAPE
from jaxdl.check.numpy_check.worker import encode_value
from jaxdl.errors import InputError

# Values supplied for the lab's constructor parameters, by name.
HYPERPARAMETERS = {
    "num_outputs": 3, "num_filters": 3, "kernel_size": 3, "pool_size": 2, "stride": 2,
    "weight_decay": 0.1, "beta": 1.5, "b": 0.5, "alpha": 0.2, "negative_slope": 0.2,
}


class BadPath(InputError):
    """A path that is not a submission or a folder of them (exit code 2, before any work)."""


@dataclasses.dataclass(frozen=True)
class Submission:
    name: str  # as the gradebook shows it: the path as given, joined with the entry's name
    file: str  # the absolute path of the .py file to import
    folder: str | None = None  # a student's folder: its other modules can be imported
    problem: str = ""  # why it cannot be loaded, known before any work


def find_submissions(paths, entry: str = "layers.py") -> list[Submission]:
    """Every submission under ``paths``, in the order given and sorted by name within a folder.

    Raises:
      BadPath: a path that does not exist, is neither a ``.py`` file nor a directory, or a
        directory without submissions.
    """
    out = []
    for path in paths:
        if not os.path.exists(path):
            raise BadPath(f"jaxdl check-numpy: no such file or directory: {path!r}")
        if os.path.isfile(path):
            if not path.endswith(".py"):
                raise BadPath(f"jaxdl check-numpy: {path!r} is not a .py file or a directory of submissions")
            out.append(Submission(path, os.path.abspath(path)))
            continue
        if not os.path.isdir(path):
            raise BadPath(f"jaxdl check-numpy: {path!r} is not a .py file or a directory of submissions")
        found = []
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.startswith((".", "_")):
                continue
            if os.path.isfile(full) and name.endswith(".py"):
                found.append(Submission(full, os.path.abspath(full)))
            elif os.path.isdir(full):
                file = os.path.join(full, entry)
                problem = "" if os.path.isfile(file) else f"the folder has no {entry}"
                found.append(Submission(full, os.path.abspath(file), os.path.abspath(full), problem))
        if not found:
            raise BadPath(f"jaxdl check-numpy: no submissions in {path!r} (expected .py files or student folders "
                          f"holding {entry})")
        out.extend(found)
    return out


# --------------------------------------------------------------------------------------------
# Student classes, from what the worker reports of their signatures.


def kind(info: dict) -> str:
    """``"layer"``, ``"loss"`` (``forward(x, y)``) or ``"regularizer"`` (built on ``weights``)."""
    init = [p[0] for p in info.get("init") or []]
    if "weights" in init or "regulariz" in info["name"].lower():
        return "regularizer"
    if len(info.get("forward") or []) >= 2:
        return "loss"
    return "layer"


def input_shapes(info: dict) -> list[tuple[int, ...]]:
    """The input shapes to try, the likelier first: images for convolution-like classes."""
    init = {p[0] for p in info.get("init") or []}
    name = info["name"].lower()
    if init & {"num_filters", "kernel_size", "pool_size"} or any(k in name for k in ("conv", "pool", "flatten")):
        return [IMAGE_SHAPE, VECTOR_SHAPE]
    return [VECTOR_SHAPE, IMAGE_SHAPE]


def constructor_args(info: dict, input_shape, overrides: dict) -> tuple[dict, list, dict, str]:
    """``(encoded kwargs, arrays, plain kwargs, built_as)`` for one construction.

    Raises:
      TypeError: a constructor parameter with no known value (named in the message).
    """
    if info.get("init") is None:
        raise TypeError("its constructor's signature cannot be read")
    plain = {}
    for pname, pkind, has_default in info["init"]:
        if pkind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if pname in overrides:
            plain[pname] = overrides[pname]
        elif pname == "input_layer":
            plain[pname] = ("stub", tuple(input_shape))
        elif pname == "name":
            plain[pname] = info["name"].lower()
        elif pname == "num_inputs":
            plain[pname] = int(np.prod(input_shape[1:]))
        elif has_default:
            continue
        elif pname in HYPERPARAMETERS:
            plain[pname] = HYPERPARAMETERS[pname]
        else:
            raise TypeError(f"no value known for the constructor parameter {pname!r}")
    arrays: list = []
    encoded = {k: ({"$stub": list(v[1])} if isinstance(v, tuple) and v and v[0] == "stub" else encode_value(v, arrays))
               for k, v in plain.items()}

    def shown(k, v):
        if isinstance(v, tuple) and v and v[0] == "stub":
            return f"{k}=input_layer(shape={v[1]})"
        if isinstance(v, np.ndarray):
            return f"{k}=<array {v.shape}>"
        return f"{k}={v!r}"

    built_as = f"{info['name']}({', '.join(shown(k, v) for k, v in plain.items())})"
    return encoded, arrays, plain, built_as
