"""The worker process of ``jaxdl check-numpy``: the only place where a student's file is imported.

The checker starts it as ``python -s -P -B worker.py REQUEST_FD REPLY_FD MEMORY_MB STANDIN_PATH``
in a fresh scratch directory, with stdin closed and stdout/stderr captured by the checker. It
imports the standard library and numpy only (JAX, jaxlib and jaxdl cannot be imported here),
sets its own resource limits before anything else, then answers requests one at a time:

    load           import the student's file; list its classes and their signatures
    build          construct one class (or evaluate a ``--layer`` expression, or take an item of
                   ``make_layers()``) and report its array attributes
    call           call one method with the given arguments
    forward_many   call ``forward`` at many points, each varying one argument or one attribute

Every message is a frame: two little-endian uint32 lengths, a UTF-8 JSON header and the raw
bytes of plain numeric arrays. Nothing is pickled: what the student's code returns travels as
numbers, strings, lists and numeric arrays, and anything else only as its type's name. The
checker treats every reply as untrusted data and decides every verdict in its own process.
"""

from __future__ import annotations

import json
import struct
import sys

import numpy as np

MAX_FRAME_BYTES = 256 << 20  # header + arrays of one message
MAX_DEPTH = 6
MAX_ITEMS = 64
MAX_TEXT = 300

# The dtypes an array may have on the wire: plain numbers only (no objects, no structures).
WIRE_DTYPES = frozenset(
    np.dtype(t).str
    for t in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
)


# --------------------------------------------------------------------------------------------
# Frames (used by both ends).


def encode_frame(header: dict, arrays=()) -> bytes:
    arrays = [a if a.flags.c_contiguous else np.array(a, order="C") for a in map(np.asarray, arrays)]
    header = dict(header, arrays=[[a.dtype.str, list(a.shape)] for a in arrays])
    text = json.dumps(header, separators=(",", ":")).encode()
    blob = b"".join(a.tobytes() for a in arrays)
    return struct.pack("<II", len(text), len(blob)) + text + blob


def frame_lengths(prefix: bytes) -> tuple[int, int]:
    """The header's and the arrays' byte counts from a frame's first 8 bytes."""
    return struct.unpack("<II", prefix[:8])


class BadFrame(ValueError):
    """A message that is not a well-formed frame."""


def decode_frame(buf: bytes) -> tuple[dict, list[np.ndarray]]:
    """Parses a whole frame; raises :class:`BadFrame` for anything malformed."""
    if len(buf) < 8:
        raise BadFrame("a frame shorter than its lengths")
    n_text, n_blob = frame_lengths(buf)
    if len(buf) != 8 + n_text + n_blob:
        raise BadFrame("a frame whose length does not match its contents")
    try:
        header = json.loads(buf[8:8 + n_text].decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise BadFrame(f"an unreadable header ({type(e).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise BadFrame("a header without its array list")
    arrays, offset, blob = [], 8 + n_text, memoryview(buf)
    for spec in header.pop("arrays"):
        if not (isinstance(spec, list) and len(spec) == 2 and spec[0] in WIRE_DTYPES and isinstance(spec[1], list)
                and len(spec[1]) <= 32 and all(isinstance(d, int) and 0 <= d < 2**40 for d in spec[1])):
            raise BadFrame("an array of a kind that is not allowed")
        dtype = np.dtype(spec[0])
        size = int(np.prod(spec[1], dtype=np.int64)) if spec[1] else 1
        nbytes = size * dtype.itemsize
        if offset + nbytes > len(buf):
            raise BadFrame("arrays longer than the frame")
        arrays.append(np.frombuffer(blob[offset:offset + nbytes], dtype).reshape(spec[1]).copy())
        offset += nbytes
    if offset != len(buf):
        raise BadFrame("bytes left over after the arrays")
    return header, arrays


# --------------------------------------------------------------------------------------------
# Values: what the student's code returns, as JSON plus arrays.


def encode_value(value, arrays: list, depth: int = 0):
    """``value`` as JSON: numbers stay numbers, arrays and numpy scalars become ``{"$a": index}``
    (appended to ``arrays``), strings ``{"$s": text}``, lists and tuples lists, anything else
    ``{"$o": type name}``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else {"$o": "int (too large)"}
    if isinstance(value, float):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.str in WIRE_DTYPES:
            return {"$a": _push(a, arrays)}
        return {"$o": f"ndarray of dtype {a.dtype}"}
    if isinstance(value, str):
        return {"$s": value[:MAX_TEXT]}
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return {"$o": f"{type(value).__name__} of {len(value)} elements"}
        return [encode_value(v, arrays, depth + 1) for v in value]
    return {"$o": type(value).__name__[:MAX_TEXT]}


def _push(a: np.ndarray, arrays: list) -> int:
    arrays.append(np.array(a, copy=True))
    return len(arrays) - 1


class Opaque:
    """A value the worker could only describe: ``Opaque("dict")``."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)

    def __repr__(self):
        return f"<{self.type_name}>"


def decode_value(value, arrays: list, depth: int = 0):
    """The inverse of :func:`encode_value` (arrays are the parent's own copies)."""
    if depth > MAX_DEPTH + 1:
        raise BadFrame("a value nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list):
        return [decode_value(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, body), = value.items()
        if tag == "$a" and isinstance(body, int) and 0 <= body < len(arrays):
            return arrays[body]
        if tag == "$s" and isinstance(body, str):
            return body
        if tag == "$o" and isinstance(body, str):
            return Opaque(body)
    raise BadFrame("a value of an unknown form")


# --------------------------------------------------------------------------------------------
# What the student's classes see.


class InputStub:
    """Stands for the previous layer: the lab's constructors read ``input_layer.shape``."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.name = "input"

    def __repr__(self):
        return f"input_layer(shape={self.shape})"


# --------------------------------------------------------------------------------------------
# The worker's side (runs only in the worker process).


def _set_limits(memory_mb: int) -> None:
    import resource
    import signal

    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    files = 64 << 20  # a file written by the student's code stops growing at 64 MiB
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with an OSError instead


class _Blocker:
    """Refuses to import JAX or jaxdl: the worker runs numpy and the student's file only."""

    BLOCKED = ("jax", "jaxlib", "jaxdl")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"{name} cannot be imported by a checked file (the checker runs numpy code only)")
        return None


class _Worker:
    def __init__(self, request_fd: int, reply_fd: int, standin_path: str):
        self.request_fd = request_fd
        self.reply_fd = reply_fd
        self.standin_path = standin_path
        self.module = None
        self.student_file = None
        self.student_dir = None
        self.inst = None

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
        n_text, n_blob = frame_lengths(prefix)
        return decode_frame(prefix + self._read_exactly(n_text + n_blob))

    def send(self, header: dict, arrays=()) -> None:
        import os

        data = encode_frame(header, arrays)
        view = memoryview(data)
        while view:
            view = view[os.write(self.reply_fd, view):]

    # Requests ------------------------------------------------------------------------------

    def serve(self) -> None:
        self.send({"ready": True, "numpy": np.__version__})
        while True:
            try:
                header, arrays = self.receive()
            except EOFError:
                return
            arrays_out: list = []
            try:
                reply = getattr(self, "op_" + header["op"])(header, arrays, arrays_out)
            except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
                reply, arrays_out = {"error": self._describe(e)}, []
            try:
                self.send(reply, arrays_out)
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
        return {"type": type(e).__name__[:MAX_TEXT], "message": message[:MAX_TEXT], "line": line,
                "memory": isinstance(e, MemoryError)}

    def op_load(self, header, arrays, out):
        import importlib.util
        import os
        import random

        path = header["path"]
        self.student_file = os.path.abspath(path)
        if header.get("folder"):  # a student's folder: its other modules can be imported
            self.student_dir = os.path.abspath(header["folder"]) + os.sep
            sys.path.insert(0, self.student_dir)
        if importlib.util.find_spec("im2col_cython") is None:
            spec = importlib.util.spec_from_file_location("im2col_cython", self.standin_path)
            standin = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(standin)
            sys.modules["im2col_cython"] = standin
        np.random.seed(header["seed"])
        random.seed(header["seed"])
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
        with np.errstate(all="ignore"):
            exec(code, module.__dict__)  # noqa: S102 - the student's module, in this sandbox only
        self.module = module
        return {"classes": self._classes(), "make_layers": callable(module.__dict__.get("make_layers"))}

    def _classes(self) -> list[dict]:
        import inspect

        out = []
        for name, obj in list(vars(self.module).items()):
            if not (inspect.isclass(obj) and getattr(obj, "__module__", None) == "submission"
                    and callable(getattr(obj, "forward", None)) and name != "Layer" and not name.startswith("_")
                    and not inspect.isabstract(obj)):
                continue
            info = {"name": str(name)[:MAX_TEXT], "init": None, "forward": None,
                    "backward_inputs": callable(getattr(obj, "backward_inputs", None)),
                    "backward_params": callable(getattr(obj, "backward_params", None))}
            try:
                info["init"] = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                                for p in list(inspect.signature(obj.__init__).parameters.values())[1:]]
                info["forward"] = [p.name for p in list(inspect.signature(obj.forward).parameters.values())[1:]]
            except (TypeError, ValueError):
                pass
            out.append(info)
        return out

    def op_build(self, header, arrays, out):
        import random

        np.random.seed(header["seed"])
        random.seed(header["seed"])
        self.inst = None
        input_shape = None
        with np.errstate(all="ignore"):
            if "expr" in header:
                namespace = dict(vars(self.module))
                namespace["input_layer"] = InputStub(header["default_shape"])
                inst = eval(header["expr"], namespace)  # noqa: S307 - the user's own expression
                input_shape = getattr(getattr(inst, "input_layer", None), "shape", None)
            elif "make_layers" in header:
                item = list(self.module.make_layers())[header["make_layers"]]
                inst, input_shape = item if isinstance(item, tuple) else (item, getattr(item, "input_shape", None))
            else:
                kwargs = {k: self._arg(v, arrays) for k, v in header["kwargs"].items()}
                inst = getattr(self.module, header["cls"])(**kwargs)
        self.inst = inst
        promoted = self._promote()
        reply = {"class": type(inst).__name__[:MAX_TEXT], "promoted": promoted, **self._state(out)}
        try:
            reply["input_shape"] = [int(d) for d in input_shape] if input_shape is not None else None
        except (TypeError, ValueError):
            reply["input_shape"] = None
        return reply

    def _arg(self, value, arrays):
        if isinstance(value, dict) and "$stub" in value:
            return InputStub(value["$stub"])
        return decode_value(value, arrays)

    def _arrays(self) -> list[tuple[str, object, object, np.ndarray]]:
        """``(path, container, key, array)`` for every ndarray attribute of the instance, and of
        the objects, lists and dicts it holds (sub-layers, ``self.params["W"]``), two levels deep.
        ``container`` is an object (``key`` an attribute name) or a list or dict."""
        found, seen = [], set()

        def visit(value, container, key, path, depth):
            if isinstance(value, np.ndarray):
                found.append((path, container, key, value))
            elif depth < 2 and isinstance(value, (list, dict)) and len(value) <= MAX_ITEMS:
                items = value.items() if isinstance(value, dict) else enumerate(value)
                for k, v in list(items):
                    if isinstance(k, (str, int)):
                        visit(v, value, k, f"{path}[{k!r}]", depth + 1)
            elif depth < 2 and isinstance(value, tuple) and len(value) <= MAX_ITEMS:
                for i, v in enumerate(value):  # objects inside a tuple; its arrays cannot be replaced
                    if not isinstance(v, np.ndarray):
                        visit(v, None, None, f"{path}[{i}]", depth + 1)
            elif depth <= 2 and hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
                walk(value, path, depth + 1)

        def walk(obj, prefix, depth):
            if id(obj) in seen or depth > 2:
                return
            seen.add(id(obj))
            try:
                items = list(vars(obj).items())
            except TypeError:
                return
            for k, v in items:
                visit(v, obj, k, f"{prefix}.{k}", depth)

        walk(self.inst, "self", 0)
        return found

    def _promote(self) -> list[str]:
        """float16/float32 array attributes become float64 (finite differences need it)."""
        promoted, new = [], {}
        for path, container, key, a in self._arrays():
            if a.dtype in (np.float16, np.float32) and container is not None:
                if id(a) not in new:
                    new[id(a)] = a.astype(np.float64)
                if isinstance(container, (list, dict)):
                    container[key] = new[id(a)]
                else:
                    setattr(container, key, new[id(a)])
                promoted.append(path)
        return promoted

    def _state(self, out) -> dict:
        """The instance's array attributes (grouped by shared memory) and number attributes."""
        found = self._arrays()
        paths, groups = {}, []
        for i, (path, _, _, a) in enumerate(found):
            paths[path] = encode_value(a, out)
            groups.append(next((groups[j] for j in range(i) if np.may_share_memory(a, found[j][3])), i))
        scalars = {}
        for k, v in list(vars(self.inst).items()):
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                scalars[str(k)[:MAX_TEXT]] = float(v)
        has_params = getattr(self.inst, "has_params", None)
        return {"attrs": paths, "groups": groups, "scalars": scalars,
                "has_params": has_params if isinstance(has_params, bool) else None}

    def _find(self, array) -> str | None:
        for path, _, _, a in self._arrays():
            if a is array:
                return path
        for path, _, _, a in self._arrays():
            if isinstance(array, np.ndarray) and a.shape == array.shape and np.shares_memory(a, array):
                return path
        return None

    def op_call(self, header, arrays, out):
        args = [decode_value(v, arrays) for v in header["args"]]
        with np.errstate(all="ignore"):
            result = getattr(self.inst, header["method"])(*args)
        reply = {"result": encode_value(result, out), "args_after": [encode_value(a, out) for a in args]}
        if header["method"] == "backward_params" and isinstance(result, (list, tuple)) and len(result) <= MAX_ITEMS:
            reply["param_paths"] = [self._find(pair[0]) if isinstance(pair, (list, tuple)) and len(pair) == 2 else None
                                    for pair in result[:-1]]
        if header.get("state"):
            reply["state"] = self._state(out)
        return reply

    def op_forward_many(self, header, arrays, out):
        args = [decode_value(v, arrays) for v in header["args"]]
        points = decode_value(header["points"], arrays)
        vary = header["vary"]
        target = None
        if "attr" in vary:
            target = next(((owner, k, a) for path, owner, k, a in self._arrays() if path == vary["attr"]), None)
            if target is None:
                return {"bad": f"{vary['attr']} is no longer an array attribute"}
            saved = np.array(target[2], copy=True)
        results = []
        try:
            for point in points:
                call_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                if target is None:
                    call_args[vary["arg"]] = point.copy()
                else:
                    np.copyto(target[2], point)
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
                np.copyto(target[2], saved)
        return {"outputs": encode_value(np.stack(results) if results else np.zeros((0,)), out)}


def _die_with_the_checker() -> None:
    """On Linux: killed when the checker's thread that started this process ends (so a worker
    stuck in a student's loop never outlives a checker that was killed)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def main(argv) -> None:
    request_fd, reply_fd, memory_mb, standin_path = int(argv[1]), int(argv[2]), int(argv[3]), argv[4]
    _die_with_the_checker()
    _set_limits(memory_mb)
    sys.dont_write_bytecode = True
    sys.meta_path.insert(0, _Blocker())
    _Worker(request_fd, reply_fd, standin_path).serve()


if __name__ == "__main__":
    main(sys.argv)
