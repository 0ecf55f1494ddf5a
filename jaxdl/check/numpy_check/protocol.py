"""The wire between the checker and a worker of ``jaxdl check-numpy``: frames, their values, and
the checks every reply passes before the checker reads it. Standard library and numpy only: the
worker loads this file by path inside its sandbox.

A frame is two little-endian uint32 lengths, a UTF-8 JSON header and the raw bytes of plain
numeric arrays (``header["arrays"]`` lists each one's dtype and shape). Nothing is pickled: the
student's values travel as numbers, strings, lists and numeric arrays, anything else only as its
type's name. Every frame the worker sends is hostile input to the checker: its size, the JSON's
nesting depth, each array's dtype, rank and element count are bounded *before* they are parsed,
and each reply's fields are read through :func:`field`, which names what was expected.
"""

from __future__ import annotations

import json
import struct

import numpy as np

MAX_FRAME_BYTES = 256 << 20  # header + arrays of one message
MAX_HEADER_BYTES = 4 << 20  # the JSON part alone
MAX_JSON_DEPTH = 24  # nesting of the JSON header (values nest at most MAX_DEPTH inside it)
MAX_DEPTH = 6  # nesting of one encoded value (lists of lists ...)
MAX_ITEMS = 64  # elements of a list that is encoded element by element
MAX_TEXT = 300  # characters of a string
MAX_RANK = 32
MAX_ELEMENTS = 1 << 27  # of one array on the wire

# The dtypes an array may have on the wire: plain numbers only (no objects, no structures).
WIRE_DTYPES = frozenset(
    np.dtype(t).str
    for t in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
)


class BadFrame(ValueError):
    """A message that is not a well-formed frame, or a reply that is not what was asked for."""


# --------------------------------------------------------------------------------------------
# Frames.


def encode_frame(header: dict, arrays=()) -> bytes:
    arrays = [a if a.flags.c_contiguous else np.array(a, order="C") for a in map(np.asarray, arrays)]
    header = dict(header, arrays=[[a.dtype.str, list(a.shape)] for a in arrays])
    text = json.dumps(header, separators=(",", ":")).encode()
    blob = b"".join(a.tobytes() for a in arrays)
    return struct.pack("<II", len(text), len(blob)) + text + blob


def frame_lengths(prefix: bytes) -> tuple[int, int]:
    """The header's and the arrays' byte counts from a frame's first 8 bytes."""
    return struct.unpack("<II", prefix[:8])


def json_depth(text: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _array_spec(spec) -> tuple[np.dtype, tuple[int, ...], int]:
    if not (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], str) and spec[0] in WIRE_DTYPES
            and isinstance(spec[1], list) and len(spec[1]) <= MAX_RANK
            and all(type(d) is int and 0 <= d <= MAX_ELEMENTS for d in spec[1])):
        raise BadFrame("an array of a kind that is not allowed (dtype, rank or dimensions)")
    size = 1
    for d in spec[1]:  # Python integers: no wrap-around
        size *= d
    if size > MAX_ELEMENTS:
        raise BadFrame(f"an array of {size} elements (at most {MAX_ELEMENTS})")
    dtype = np.dtype(spec[0])
    return dtype, tuple(spec[1]), size * dtype.itemsize


def decode_frame(buf: bytes) -> tuple[dict, list[np.ndarray]]:
    """Parses a whole frame; raises :class:`BadFrame` for anything malformed or out of bounds."""
    if len(buf) < 8:
        raise BadFrame("a frame shorter than its lengths")
    n_text, n_blob = frame_lengths(buf)
    if len(buf) != 8 + n_text + n_blob:
        raise BadFrame("a frame whose length does not match its contents")
    if n_text > MAX_HEADER_BYTES:
        raise BadFrame(f"a header of {n_text} bytes (at most {MAX_HEADER_BYTES})")
    text = bytes(buf[8:8 + n_text])
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadFrame(f"a header nested more than {MAX_JSON_DEPTH} deep")
    try:
        header = json.loads(text.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BadFrame(f"an unreadable header ({type(e).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise BadFrame("a header without its array list")
    specs = header.pop("arrays")
    if len(specs) > 4 * MAX_ITEMS * MAX_ITEMS:
        raise BadFrame("too many arrays")
    arrays, offset, blob = [], 8 + n_text, memoryview(buf)
    for spec in specs:
        dtype, shape, nbytes = _array_spec(spec)
        if offset + nbytes > len(buf):
            raise BadFrame("arrays longer than the frame")
        arrays.append(np.frombuffer(blob[offset:offset + nbytes], dtype).reshape(shape).copy())
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
        return int(value) if -(2**63) <= value < 2**63 else {"$o": "int (too large)"}
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.str in WIRE_DTYPES and a.ndim <= MAX_RANK and a.size <= MAX_ELEMENTS:
            arrays.append(np.array(a, copy=True))
            return {"$a": len(arrays) - 1}
        return {"$o": f"ndarray of dtype {a.dtype}"}
    if isinstance(value, str):
        return {"$s": str(value)[:MAX_TEXT]}
    if isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return {"$o": f"{type(value).__name__} of {len(value)} elements"}
        return [encode_value(v, arrays, depth + 1) for v in value]
    return {"$o": type(value).__name__[:MAX_TEXT]}


class Opaque:
    """A value the worker could only describe: ``Opaque("dict")``."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:MAX_TEXT]

    def __repr__(self):
        return f"<{self.type_name}>"


def decode_value(value, arrays: list, depth: int = 0):
    """The inverse of :func:`encode_value` (arrays are the receiver's own copies)."""
    if depth > MAX_DEPTH + 1:
        raise BadFrame("a value nested too deeply")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise BadFrame("a list longer than allowed")
        return [decode_value(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, body), = value.items()
        if tag == "$a" and type(body) is int and 0 <= body < len(arrays):
            return arrays[body]
        if tag == "$s" and isinstance(body, str):
            return body[:MAX_TEXT]
        if tag == "$o" and isinstance(body, str):
            return Opaque(body)
    raise BadFrame("a value of an unknown form")


# --------------------------------------------------------------------------------------------
# Reading a reply's fields.

_MISSING = object()


def field(reply: dict, name: str, kind, *, default=_MISSING, what: str = "reply"):
    """``reply[name]``, which must be of ``kind`` (a type, a tuple of types, or ``"int"`` for an
    integer that is not a bool); raises :class:`BadFrame` naming the field otherwise."""
    if not isinstance(reply, dict):
        raise BadFrame(f"a {what} that is not an object")
    if name not in reply:
        if default is not _MISSING:
            return default
        raise BadFrame(f"a {what} without its field {name!r}")
    value = reply[name]
    if kind == "int":
        ok = type(value) is int
    else:
        ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float, (int, float)))
    if not ok:
        raise BadFrame(f"a {what} whose field {name!r} is {type(value).__name__}")
    return value


def text(value, limit: int = MAX_TEXT) -> str:
    """A string from the worker, cut to ``limit`` characters (anything else: its type's name)."""
    return value[:limit] if isinstance(value, str) else type(value).__name__


def class_info(raw) -> dict | None:
    """One class of a load reply in the only form the checker reads, or None if it is not one:
    ``{"name": str, "init": [[name, kind, has_default], ...] | None, "forward": [str] | None,
    "backward_inputs": bool, "backward_params": bool}``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    init = raw.get("init")
    if not (isinstance(init, list) and len(init) <= MAX_ITEMS and all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], str)
            and isinstance(p[2], bool) for p in init)):
        init = None
    forward = raw.get("forward")
    if not (isinstance(forward, list) and len(forward) <= MAX_ITEMS and all(isinstance(p, str) for p in forward)):
        forward = None
    return {"name": raw["name"][:MAX_TEXT], "init": init, "forward": forward,
            "backward_inputs": raw.get("backward_inputs") is True, "backward_params": raw.get("backward_params") is True}


def load_reply(raw) -> dict:
    """A load reply in the only form the checker reads (its classes through :func:`class_info`,
    ``make_layers`` a count or a reason in words, ``im2col`` which im2col_cython the file
    imported, in words, or ""); raises :class:`BadFrame` if it is not one."""
    if not isinstance(raw, dict):
        raise BadFrame("an import reply that is not an object")
    if "load_error" in raw or "error" in raw:
        return raw
    classes = raw.get("classes")
    if not isinstance(classes, list) or len(classes) > MAX_ITEMS:
        raise BadFrame("an import reply without its list of classes")
    n = raw.get("make_layers", 0)
    made = raw.get("make_layers_classes")
    im2col = raw.get("im2col")
    return {"classes": [c for c in map(class_info, classes) if c is not None],
            "make_layers": n if type(n) is int and n >= 0 else (n[:MAX_TEXT] if isinstance(n, str) else 0),
            "make_layers_classes": [m for m in made if isinstance(m, str)][:MAX_ITEMS] if isinstance(made, list) else [],
            "im2col": im2col[:MAX_TEXT] if isinstance(im2col, str) else ""}
