"""Every reply is hostile input: whatever a worker sends back (any JSON, any arrays), grading its
submission ends with that submission's verdict, never with an exception of the checker."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import importlib

from jaxdl.check.numpy_check import protocol
from jaxdl.check.numpy_check.discover import Submission
from jaxdl.check.numpy_check.sandbox import WorkerLost

grade = importlib.import_module("jaxdl.check.numpy_check.grade")  # the module (the package exports its function)
KEYS = ["classes", "name", "init", "forward", "backward_inputs", "backward_params", "make_layers",
        "make_layers_classes", "error", "type", "message", "line", "memory", "module", "result", "args_after",
        "param_paths", "state", "attrs", "regions", "returned", "has_params", "class", "promoted", "input_shape",
        "outputs", "bad", "load_error", "ready", "$a", "$s", "$o", "self.W", "FC", "POSITIONAL_OR_KEYWORD"]
LEAVES = st.none() | st.booleans() | st.integers(-3, 70) | st.floats(allow_nan=True, allow_infinity=True) \
    | st.sampled_from(KEYS) | st.text(max_size=6)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5), max_leaves=25)


def _arrays(draw) -> list[np.ndarray]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
        dtype = draw(st.sampled_from(["f8", "f4", "i8", "?", "u1", "c16"]))
        fill = draw(st.sampled_from([0.0, 1.5, np.inf, np.nan])) if dtype in ("f8", "f4", "c16") else 1
        out.append(np.full(shape, fill, dtype))
    return out


def _state(draw) -> tuple[dict, list]:
    """A plausible state report: some arrays, their regions (sometimes sharing one buffer)."""
    arrays, attrs, regions = [], {}, {}
    for i in range(draw(st.integers(0, 3))):
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
        arrays.append(np.full(shape, draw(st.sampled_from([0.5, -1.0, np.nan]))))
        path = draw(st.sampled_from(["self.W", "self.b", "self.params[0]", f"self.x{i}"]))
        attrs[path] = {"$a": len(arrays) - 1}
        strides = [8 * int(np.prod(shape[k + 1:])) for k in range(len(shape))]
        regions[path] = [draw(st.integers(0, 1)), 8 * draw(st.integers(0, 3)), strides, 8, draw(st.booleans())]
    return {"attrs": attrs, "regions": regions, "returned": draw(st.lists(
        st.just([0, 0, [8], 8, True]) | VALUES, max_size=2)), "has_params": draw(VALUES)}, arrays


class FakeWorker:
    """Answers every request with whatever hypothesis draws — half the time a reply of the right
    form for the request (so that grading goes deep), else anything; sometimes it is lost."""

    def __init__(self, data, *args, **kwargs):
        self.data = data
        self.walls, self.scratch, self.inside = {}, "/scratch", "/submission"
        self.requests = 0

    alive = True

    def _plausible(self, header, arrays):
        draw, op = self.data.draw, header.get("op")
        if op == "load":
            return {"classes": [{"name": draw(st.sampled_from(["FC", "ReLU", "Swish", "L2Regularizer",
                                                                 "SoftmaxCrossEntropyWithLogits", "Odd"])),
                                 "init": [["input_layer", "POSITIONAL_OR_KEYWORD", False],
                                          ["name", "POSITIONAL_OR_KEYWORD", draw(st.booleans())]]
                                 + draw(st.sampled_from([[], [["num_outputs", "POSITIONAL_OR_KEYWORD", False]],
                                                         [["weights", "POSITIONAL_OR_KEYWORD", False]]])),
                                 "forward": draw(st.sampled_from([["inputs"], ["x", "y"], []])),
                                 "backward_inputs": draw(st.booleans()), "backward_params": draw(st.booleans())}],
                    "make_layers": draw(st.integers(0, 2))}, []
        if op == "build":
            state, out = _state(draw)
            return {"class": "FC", "promoted": [], "state": state, "input_shape": draw(VALUES)}, out
        if op == "call":
            state, out = _state(draw)
            arg = arrays[0] if arrays else np.zeros((3, 4))
            shape = draw(st.sampled_from([arg.shape, (3, 3), (), (4, 3)]))
            out.append(np.full(shape, draw(st.sampled_from([0.25, np.inf, 2.0]))))
            result = {"$a": len(out) - 1}
            if header.get("method") == "backward_params":
                result = [[{"$a": 0} if state["attrs"] else None, {"$a": len(out) - 1}], {"$s": "fc"}]
            return {"result": result, "args_after": [{"$a": len(out) - 1}], "param_paths": draw(VALUES),
                    "state": state}, out
        if op == "forward_many":
            n = len(arrays[-1]) if arrays else 1
            shape = (n, *draw(st.sampled_from([(3, 3), (3, 4), ()])))
            return {"outputs": {"$a": 0}}, [np.full(shape, draw(st.sampled_from([0.1, np.nan, 1e300])))]
        return {}, []

    def request(self, header, arrays=(), what="the call"):
        self.requests += 1
        if self.requests > 80 or self.data.draw(st.integers(0, 40)) == 0:
            raise WorkerLost("lost")
        if self.data.draw(st.booleans()):
            return self._plausible(header, list(arrays))
        reply = self.data.draw(VALUES)
        return (reply if isinstance(reply, dict) else {"result": reply}), _arrays(self.data.draw)

    def cpu_seconds(self):
        return 0.0

    clock_used = 0.0

    def text(self, stream):
        return ""

    def close(self):
        self.alive = False


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_reply_is_the_submissions_verdict_never_the_checkers_error(tmp_path_factory, data, monkeypatch_class):
    path = tmp_path_factory.mktemp("s") / "s.py"
    path.write_text("x = 1\n")
    monkeypatch_class.setattr(grade, "Worker", lambda *a, **k: FakeWorker(data))
    result = grade.grade_submission(Submission(name=str(path), file=str(path)), grade.Options(sandbox="plain"))
    assert result.internal == "", result.internal
    assert not result.ok or all(c.ok for c in result.classes)
    for c in result.classes:
        for k in c.checks:
            assert isinstance(k.detail, str) and isinstance(k.name, str)


@pytest.fixture(scope="module")
def monkeypatch_class():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_frames_are_bounded_before_they_are_parsed():
    import json
    import struct

    def frame(text: bytes, blob: bytes = b""):
        return struct.pack("<II", len(text), len(blob)) + text + blob

    cases = {
        b"[" * 100_000 + b"]" * 100_000: "nested more than",
        json.dumps({"arrays": [["<f8", [2**32, 2**32]]]}).encode(): "not allowed",
        json.dumps({"arrays": [["<f8", [2**20, 2**20]]]}).encode(): "elements",
        json.dumps({"arrays": [["<f8", [4096, 4096, 4096]]]}).encode(): "elements",
        json.dumps({"arrays": [["|O8", [1]]]}).encode(): "not allowed",
        json.dumps({"arrays": [["<f8", [True]]]}).encode(): "not allowed",
        json.dumps({"arrays": 5}).encode(): "array list",
        b"\xff\xfe": "unreadable",
    }
    for text, message in cases.items():
        with pytest.raises(protocol.BadFrame, match=message):
            protocol.decode_frame(frame(text))
