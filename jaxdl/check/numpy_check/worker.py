"""The worker process of ``jaxdl check-numpy``: the only place where a student's file is imported.

It runs inside the walls :mod:`.walls` raises, as
``python -I -S -B worker.py REQUEST_FD REPLY_FD SYS_PATH_JSON``, and imports the standard
library, numpy and :mod:`.protocol` (loaded by path) only; the student's file may import what the
lab's environment has (:mod:`.environment`). It answers requests one at a time:

    load           import the student's file (with the lab's im2col_cython: the submission's own
                   compiled module where it loads, jaxdl's numpy stand-in otherwise); list its
                   classes, their signatures and how many layers ``make_layers()`` builds
    build          construct one class with the arguments the checker chose (or take an item of
                   ``make_layers()``) and report its array attributes; a composite's parts (the
                   student's own classes, or the checker's probes) are built first, in order
    call           call one method (of the instance, or of one of its parts) with the given
                   arguments
    forward_many   call ``forward`` at many points, each changing a few entries of one argument,
                   one array attribute or one parameter ``backward_params`` returned

Nothing here decides anything: the checker reads every reply as untrusted data.
"""

from __future__ import annotations

import json
import sys

MAX_FOUND = 256  # array attributes reported
FOUND_DEPTH = 4  # how deep sub-layers, lists, tuples and dicts are searched for arrays
STATE_ELEMENTS = 1 << 17  # arrays larger than this are reported by shape only


def _load_protocol(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_jaxdl_check_protocol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Worker:
    def __init__(self, wire, np, request_fd: int, reply_fd: int, standin_path: str):
        self.wire, self.np = wire, np
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.standin_path = standin_path
        self.module = None
        self.student_file = None
        self.student_dir = None
        self.inst = None
        self.parts = []  # a composite's parts, built before it (the arguments it was given)
        self.returned = []  # the arrays the last backward_params returned as parameters
        self.passed = []  # the arrays the checker passed to the constructor (and to the parts')

    # I/O -----------------------------------------------------------------------------------

    def _read_exactly(self, n: int) -> bytes:
        import os

        chunks = []
        while n:
            chunk = os.read(self.request_fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        prefix = self._read_exactly(8)
        n_text, n_blob = self.wire.frame_lengths(prefix)
        return self.wire.decode_frame(prefix + self._read_exactly(n_text + n_blob))

    def send(self, header: dict, arrays=()) -> None:
        import os

        data = self.wire.encode_frame(header, arrays)
        view = memoryview(data)
        while view:
            view = view[os.write(self.reply_fd, view):]

    # Requests ------------------------------------------------------------------------------

    def serve(self) -> None:
        np = self.np
        self.send({"ready": True, "numpy": np.__version__})
        while True:
            try:
                header, arrays = self.receive()
            except EOFError:
                return
            out: list = []
            try:
                reply = getattr(self, "op_" + header["op"])(header, arrays, out)
            except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
                reply, out = {"error": self._describe(e)}, []
            try:
                self.send(reply, out)
            except BaseException as e:  # noqa: BLE001 - e.g. a reply too large for memory
                self.send({"error": self._describe(e)})

    def _describe(self, e: BaseException) -> dict:
        import traceback

        line = None
        for frame in reversed(traceback.extract_tb(e.__traceback__)):
            if frame.filename == self.student_file or (self.student_dir and frame.filename.startswith(self.student_dir)):
                line = frame.lineno
                break
        try:
            message = str(e)
        except BaseException:  # noqa: BLE001 - a student's exception whose __str__ raises
            message = "(unprintable)"
        out = {"type": type(e).__name__[:300], "message": message[:300], "line": line,
               "memory": isinstance(e, MemoryError)}
        if isinstance(e, ImportError) and isinstance(getattr(e, "name", None), str):
            out["module"] = e.name[:300]
        return out

    def _seed(self, seed: int) -> None:
        import random

        self.np.random.seed(seed)
        random.seed(seed)

    def op_load(self, header, arrays, out):
        import importlib.util
        import os

        path = header["path"]
        self.student_file = os.path.abspath(path)
        if header.get("folder"):  # a student's folder: its other modules can be imported
            self.student_dir = os.path.abspath(header["folder"]) + os.sep
            sys.path.insert(0, self.student_dir)
        im2col = self._im2col()
        self._seed(header["seed"])
        spec = importlib.util.spec_from_file_location("submission", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = module
        with open(path, "rb") as f:
            source = f.read()
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as e:
            return {"load_error": f"not a UTF-8 text file (byte {e.start})"}
        try:
            code = compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as e:
            return {"load_error": f"SyntaxError: {e.msg} (line {e.lineno})"}
        with self.np.errstate(all="ignore"):
            exec(code, module.__dict__)  # noqa: S102 - the student's module, in this sandbox only
        self.module = module
        reply = {"classes": self._classes(), "make_layers": 0}
        if any(v is sys.modules.get("im2col_cython") or getattr(v, "__module__", None) == "im2col_cython"
               for v in list(vars(module).values())):
            reply["im2col"] = im2col
        if callable(module.__dict__.get("make_layers")):
            self._seed(header["seed"])
            try:
                with self.np.errstate(all="ignore"):
                    items = module.make_layers()
                if isinstance(items, (list, tuple)):
                    reply["make_layers"] = len(items)
                    reply["make_layers_classes"] = sorted({type(i[0] if isinstance(i, tuple) and i else i).__name__[:300]
                                                           for i in list(items)[:64]})
                else:
                    reply["make_layers"] = f"make_layers() returned {type(items).__name__}, not a list"
            except Exception as e:  # noqa: BLE001 - reported, the rest of the file is still checked
                d = self._describe(e)
                reply["make_layers"] = f"make_layers() raised {d['type']}: {d['message']}"
        return reply

    def _im2col(self) -> str:
        """Makes ``im2col_cython`` importable: the submission's own module where it has one that
        loads (its folder is on the path), else jaxdl's numpy stand-in; and ``pyximport``, with which
        the lab compiles it on import, as a stand-in that does nothing. Returns which im2col, in words."""
        import importlib
        import importlib.util

        problem = ""
        if importlib.util.find_spec("pyximport") is None:  # the lab's way to compile im2col_cython.pyx on import
            import types

            pyximport = types.ModuleType("pyximport", "A stand-in for Cython's pyximport: the worker has no compiler, "
                                                      "and im2col_cython is provided (install() does nothing).")
            pyximport.install = lambda *args, **kwargs: (None, None)
            pyximport.uninstall = lambda *args, **kwargs: None
            sys.modules["pyximport"] = pyximport
        if importlib.util.find_spec("im2col_cython") is not None:
            try:
                with self.np.errstate(all="ignore"):
                    importlib.import_module("im2col_cython")
                return "the submission's own im2col_cython"
            except Exception as e:  # noqa: BLE001 - e.g. a module compiled for another Python
                sys.modules.pop("im2col_cython", None)
                problem = f"{type(e).__name__}: {e}"[:200]
        spec = importlib.util.spec_from_file_location("im2col_cython", self.standin_path)
        standin = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(standin)
        sys.modules["im2col_cython"] = standin
        return "jaxdl's numpy stand-in for im2col_cython" + (
            f" (the submission's own could not be loaded: {problem})" if problem else "")

    def _classes(self) -> list[dict]:
        import inspect

        out = []
        for name, obj in list(vars(self.module).items()):
            if not (inspect.isclass(obj) and getattr(obj, "__module__", None) == "submission"
                    and callable(getattr(obj, "forward", None)) and name != "Layer" and not name.startswith("_")
                    and not inspect.isabstract(obj)):
                continue
            info = {"name": str(name)[:300], "init": None, "forward": None,
                    "backward_inputs": callable(getattr(obj, "backward_inputs", None)),
                    "backward_params": callable(getattr(obj, "backward_params", None))}
            try:
                info["init"] = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                                for p in list(inspect.signature(obj.__init__).parameters.values())[1:]]
                info["forward"] = [p.name for p in list(inspect.signature(obj.forward).parameters.values())[1:]
                                   if p.default is inspect.Parameter.empty
                                   and p.kind.name in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
            except (TypeError, ValueError):
                pass
            out.append(info)
            if len(out) >= 64:
                break
        return out

    def op_build(self, header, arrays, out):
        np = self.np
        self._seed(header["seed"])
        self.inst, self.returned, self.parts, self.passed = None, [], [], []
        input_shape = None
        with np.errstate(all="ignore"):
            if "make_layers" in header:
                item = list(self.module.make_layers())[header["make_layers"]]
                inst, input_shape = item if isinstance(item, tuple) else (item, getattr(item, "input_shape", None))
            else:
                for part in header.get("parts", []):
                    self.parts.append(self._part(part, arrays))
                args = [self._arg(v, arrays) for v in header.get("args", [])]
                kwargs = {k: self._arg(v, arrays) for k, v in header.get("kwargs", {}).items()}
                inst = getattr(self.module, header["cls"])(*args, **kwargs)
        self.inst = inst
        promoted = self._promote()
        reply = {"class": type(inst).__name__[:300], "promoted": promoted, "state": self._state(out)}
        try:
            reply["input_shape"] = [int(d) for d in input_shape] if input_shape is not None else None
        except (TypeError, ValueError):
            reply["input_shape"] = None
        return reply

    def _arg(self, value, arrays):
        if isinstance(value, dict) and "$stub" in value:
            return InputStub(value["$stub"])
        if isinstance(value, dict) and "$part" in value:
            return self.parts[value["$part"]]
        if isinstance(value, list) and any(isinstance(v, dict) and "$part" in v for v in value):
            return [self._arg(v, arrays) for v in value]
        decoded = self.wire.decode_value(value, arrays)
        if isinstance(decoded, self.np.ndarray):
            self.passed.append(decoded)
        return decoded

    def _part(self, spec, arrays):
        """One part of a composite: the student's class built with the checker's arguments, or
        one of the checker's probes (:class:`ProbeLoss`, :class:`ProbeRegularizer`)."""
        kwargs = {k: self._arg(v, arrays) for k, v in spec.get("kwargs", {}).items()}
        if spec.get("probe") == "loss":
            return ProbeLoss(self.np, **kwargs)
        if spec.get("probe") == "regularizer":
            return ProbeRegularizer(self.np, **kwargs)
        return getattr(self.module, spec["cls"])(**kwargs)

    def _passed_index(self, a):
        """Which array the checker passed ``a`` is (the same object, or a view of exactly its
        memory: an update in place reaches it), or None."""
        np = self.np
        if not isinstance(a, np.ndarray):
            return None
        for i, p in enumerate(self.passed):
            if a is p or (a.shape == p.shape and a.strides == p.strides and a.dtype == p.dtype
                          and a.__array_interface__["data"][0] == p.__array_interface__["data"][0]):
                return i
        return None

    def _identify(self, value, depth: int = 0):
        """``value``'s structure with each array replaced by :meth:`_passed_index` (lists only)."""
        if isinstance(value, (list, tuple)) and depth < 4:
            return [self._identify(v, depth + 1) for v in list(value)[:64]]
        return self._passed_index(value)

    # The instance's arrays -----------------------------------------------------------------

    def _arrays(self) -> list[tuple[str, object, object, object]]:
        """``(path, container, key, array)`` for every ndarray the instance holds: attributes (also in
        ``__slots__``), and inside sub-layers, lists, tuples and dicts, :data:`FOUND_DEPTH` levels deep.
        ``container`` is an object (``key`` an attribute name), a list or a dict, or ``None`` (inside a
        tuple)."""
        np = self.np
        found, seen = [], set()

        def visit(value, container, key, path, depth):
            if len(found) >= MAX_FOUND:
                return
            if isinstance(value, np.ndarray):
                found.append((path, container, key, value))
            elif depth < FOUND_DEPTH and isinstance(value, (list, dict, tuple)):
                if id(value) in seen:
                    return
                seen.add(id(value))
                items = list(value.items())[:256] if isinstance(value, dict) else list(enumerate(value))[:256]
                for k, v in items:
                    visit(v, None if isinstance(value, tuple) else value, k, f"{path}[{k!r}]"[:300], depth + 1)
            elif depth < FOUND_DEPTH and not isinstance(value, type) and not callable(value) and (
                    hasattr(value, "__dict__") or hasattr(type(value), "__slots__")):
                walk(value, path, depth + 1)

        def walk(obj, prefix, depth):
            if id(obj) in seen:
                return
            seen.add(id(obj))
            items = []
            try:
                items = list(vars(obj).items())
            except TypeError:
                pass
            for klass in type(obj).__mro__:
                slots = klass.__dict__.get("__slots__", ())
                for slot in ([slots] if isinstance(slots, str) else list(slots)):
                    if slot not in ("__dict__", "__weakref__") and hasattr(obj, slot):
                        items.append((slot, getattr(obj, slot)))
            for k, v in items:
                visit(v, obj, k, f"{prefix}.{k}", depth)

        walk(self.inst, "self", 0)
        return found

    def _promote(self) -> list[str]:
        """float16/float32 array attributes become float64 (finite differences need it); arrays that
        are views of one buffer stay views of one (promoted) buffer."""
        np = self.np
        promoted, owners = [], {}
        for path, container, key, a in self._arrays():
            if a.dtype not in (np.float16, np.float32) or container is None:
                continue
            owner = a
            while isinstance(owner.base, np.ndarray):
                owner = owner.base
            if owner.dtype != a.dtype:  # a view of another type: copied on its own
                new = a.astype(np.float64)
            else:
                if id(owner) not in owners:
                    owners[id(owner)] = (owner, owner.astype(np.float64))
                old, big = owners[id(owner)]
                scale = 8 // a.itemsize
                offset = (a.__array_interface__["data"][0] - old.__array_interface__["data"][0]) * scale
                new = np.ndarray(a.shape, np.float64, buffer=big, offset=offset,
                                 strides=tuple(st * scale for st in a.strides))
            if isinstance(container, (list, dict)):
                container[key] = new
            else:
                setattr(container, key, new)
            promoted.append(path)
        return promoted

    def _region(self, a, owners: dict) -> list:
        """``[group, byte offset, strides, itemsize, writeable]``: where ``a`` lies in the buffer it
        shares (arrays of one group are views of one memory)."""
        np = self.np
        owner = a
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        key = id(owner.base) if owner.base is not None else id(owner)
        group = owners.setdefault(key, len(owners))
        offset = a.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
        return [group, int(offset), [int(s) for s in a.strides], int(a.itemsize), bool(a.flags.writeable)]

    def _state(self, out) -> dict:
        """The instance's array attributes, where each lies in memory, and ``has_params``."""
        np = self.np
        attrs, regions, owners = {}, {}, {}
        for path, _, _, a in self._arrays():
            path = path[:300]
            if path in attrs:
                continue
            if a.size <= STATE_ELEMENTS and a.dtype.str in self.wire.WIRE_DTYPES:
                attrs[path] = self.wire.encode_value(a, out)
            else:
                attrs[path] = {"$o": f"ndarray {a.dtype} of shape {list(a.shape)}"[:300]}
            regions[path] = self._region(a, owners)
        for p in self.returned:
            self._region(p, owners)
        has_params = getattr(self.inst, "has_params", None)
        return {"attrs": attrs, "regions": regions,
                "returned": [self._region(p, owners) for p in self.returned],
                "has_params": has_params if isinstance(has_params, bool) else None}

    def op_call(self, header, arrays, out):
        np = self.np
        args = [self.wire.decode_value(v, arrays) for v in header["args"]]
        target = self.inst if header.get("part") is None else self.parts[header["part"]]
        with np.errstate(all="ignore"):
            result = getattr(target, header["method"])(*args)
        reply = {"result": self.wire.encode_value(result, out),
                 "args_after": [self.wire.encode_value(a, out) for a in args]}
        if header.get("identify"):
            reply["identity"] = self._identify(result)
            has_params = getattr(target, "has_params", None)
            reply["has_params"] = has_params if isinstance(has_params, bool) else None
        if header.get("part") is not None:
            return reply
        if header["method"] == "backward_params":
            self.returned = []
            if isinstance(result, (list, tuple)) and len(result) <= 64:
                self.returned = [pair[0] for pair in result[:-1]
                                 if isinstance(pair, (list, tuple)) and len(pair) == 2
                                 and isinstance(pair[0], np.ndarray)]
            pairs = result[:-1] if isinstance(result, (list, tuple)) and len(result) <= 64 else []
            reply["param_paths"] = [self._find(pair[0]) if isinstance(pair, (list, tuple)) and len(pair) == 2 else None
                                    for pair in pairs]
            reply["param_passed"] = [isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], np.ndarray)
                                     and any(np.shares_memory(pair[0], p) for p in self.passed) for pair in pairs]
        if header.get("state"):
            reply["state"] = self._state(out)
        return reply

    def _find(self, array) -> str | None:
        np = self.np
        if not isinstance(array, np.ndarray):
            return None
        found = self._arrays()
        for path, _, _, a in found:
            if a is array:
                return path[:300]
        for path, _, _, a in found:
            if a.shape == array.shape and np.shares_memory(a, array):
                return path[:300]
        return None

    @staticmethod
    def _writeable(a) -> list:
        """Makes ``a`` (and the arrays it is a view of) writeable; returns those whose flag changed."""
        chain, changed = [], []
        while a is not None and hasattr(a, "flags"):
            chain.append(a)
            a = a.base if hasattr(a.base, "flags") else None
        for b in reversed(chain):
            if not b.flags.writeable:
                b.flags.writeable = True  # ValueError when the memory itself is read-only
                changed.append(b)
        return changed

    def op_set_params(self, header, arrays, out):
        """Overwrites, in place, the arrays the last backward_params returned (as a training step
        would): ``values[i]`` into parameter ``i``."""
        np = self.np
        values = [self.wire.decode_value(v, arrays) for v in header["values"]]
        for target, value in zip(self.returned, values):
            restore = self._writeable(target)
            np.copyto(target, value, casting="unsafe")
            for b in restore:
                b.flags.writeable = False
        return {"state": self._state(out)}

    def op_forward_many(self, header, arrays, out):
        """``forward`` at each point: the point is the argument, attribute or returned parameter
        ``vary`` names with the entries ``index[k]`` set to ``values[k]``."""
        np = self.np
        args = [self.wire.decode_value(v, arrays) for v in header["args"]]
        index = self.wire.decode_value(header["index"], arrays)
        values = self.wire.decode_value(header["values"], arrays)
        vary = header["vary"]
        target = None
        if "attr" in vary:
            target = next((a for path, _, _, a in self._arrays() if path[:300] == vary["attr"]), None)
            if target is None:
                return {"bad": f"{vary['attr']} is no longer an array attribute"}
        elif "param" in vary:
            if not 0 <= vary["param"] < len(self.returned):
                return {"bad": "that parameter was not returned by backward_params"}
            target = self.returned[vary["param"]]
        results, restore = [], []
        if target is not None:
            try:
                restore = self._writeable(target)
            except ValueError:
                return {"bad": "its memory is read-only and cannot be changed to probe it"}
            saved = np.array(target, copy=True)
        try:
            for idx, val in zip(index, values):
                call_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                if target is None:
                    point = np.array(call_args[vary["arg"]], dtype=np.float64, copy=True)
                    point.reshape(-1)[idx] = val
                    call_args[vary["arg"]] = point
                else:
                    np.copyto(target, saved)
                    if target.flags.c_contiguous:
                        target.reshape(-1)[idx] = val
                    else:  # a strided view: its entries one by one, in C order of its shape
                        for i, v in zip(idx, val):
                            target[np.unravel_index(int(i), target.shape)] = v
                with np.errstate(all="ignore"):
                    y = self.inst.forward(*call_args)
                if not isinstance(y, (np.ndarray, np.generic, float, int)) or isinstance(y, bool):
                    return {"bad": f"forward returned {type(y).__name__}"}
                y = np.asarray(y)
                if y.dtype.kind not in "biuf" or (results and y.shape != results[0].shape):
                    return {"bad": f"forward returned {'arrays of changing shape' if results else y.dtype}"}
                results.append(np.array(y, np.float64))
        finally:
            if target is not None:
                np.copyto(target, saved)
                for b in restore:
                    b.flags.writeable = False
        return {"outputs": self.wire.encode_value(np.stack(results) if results else np.zeros((0,)), out)}


class ProbeLoss:
    """The checker's data loss, a part a composite is built from to check how it combines its
    parts: ``L(x, y) = Σ a ⊙ x + ½ Σ y ⊙ x ⊙ x`` and ``∂L/∂x = a + y ⊙ x`` (``a`` drawn by the checker,
    who computes the same numbers itself)."""

    has_params = False

    def __init__(self, np, a, name="data_loss"):
        self.np, self.a, self.name = np, a, name

    def forward(self, x, y):
        return self.np.sum(self.a * x) + 0.5 * self.np.sum(y * x * x)

    def backward_inputs(self, x, y):
        return self.a + y * x


class ProbeRegularizer:
    """The checker's regularizer, a part of a composite: built on ``weights`` like the lab's
    L2Regularizer, with ``R = Σ b ⊙ weights`` and the gradient ``b`` (``b`` drawn by the checker)."""

    has_params = True

    def __init__(self, np, weights, b, weight_decay, name):
        self.np, self.weights, self.b, self.weight_decay, self.name = np, weights, b, weight_decay, name

    def forward(self):
        return self.np.sum(self.b * self.weights)

    def backward_params(self):
        return [[self.weights, self.b.copy()], self.name]


class InputStub:
    """Stands for the previous layer: the lab's constructors read ``input_layer.shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.name = "input"

    def __repr__(self):
        return f"input_layer(shape={self.shape})"


class _KeptOutput:
    """The raw stream under ``sys.stdout`` (or ``sys.stderr``): the first ``limit`` bytes, and one
    more (so that the checker sees that more came), go to the checker's pipe ``fd``; the rest is
    counted as written and dropped. Printing never waits on the checker, so a flood runs into its CPU
    limit whatever the machine's load (a pipe the checker drains would make it wait, and the wall
    clock would stop it instead). Writes to the descriptors 1 and 2 themselves go to /dev/null."""

    def __init__(self, fd: int, null_fd: int, limit: int):
        self.fd, self.null_fd, self.left = fd, null_fd, limit + 1
        self.closed = False

    def write(self, data) -> int:
        import os

        n = len(data)
        if self.left > 0:
            view = memoryview(bytes(data[:self.left]))
            self.left -= len(view)
            try:
                while view:
                    view = view[os.write(self.fd, view):]
            except OSError:
                self.left = 0
        return n

    def fileno(self) -> int:
        return self.null_fd

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass


def _keep_output(limit: int) -> None:
    """``sys.stdout`` and ``sys.stderr`` through :class:`_KeptOutput`; descriptors 1 and 2 to /dev/null."""
    import io
    import os

    pipes = os.dup(1), os.dup(2)
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    for name, fd, null_fd in (("stdout", pipes[0], 1), ("stderr", pipes[1], 2)):
        stream = io.TextIOWrapper(_KeptOutput(fd, null_fd, limit), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True, write_through=True)
        setattr(sys, name, stream)


def _one_process() -> None:
    """The ways the standard library starts a process or a session name the rule when they are
    refused (the wall itself is seccomp's, which refuses them whatever calls them)."""
    import _posixsubprocess
    import errno
    import os

    def refused(what: str):
        def call(*args, **kwargs):
            raise PermissionError(errno.EPERM, f"a lab file runs in one process: {what} is refused (threads are "
                                               "allowed)")
        return call

    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "setsid", "setpgid", "setpgrp"):
        if hasattr(os, name):
            setattr(os, name, refused(f"os.{name}"))
    _posixsubprocess.fork_exec = refused("starting a subprocess")


def main(argv) -> None:
    request_fd, reply_fd, paths = int(argv[1]), int(argv[2]), json.loads(argv[3])
    sys.dont_write_bytecode = True
    sys.path[:] = list(paths["sys_path"])
    _keep_output(int(paths["output_limit"]))
    _one_process()
    wire = _load_protocol(paths["protocol"])
    import numpy as np

    _Worker(wire, np, request_fd, reply_fd, paths["standin"]).serve()


if __name__ == "__main__":
    main(sys.argv)
