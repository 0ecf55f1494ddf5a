"""``jaxdl check-numpy``: checks students' numpy lab layers, one file or a whole class of them.

The lab's interface: a layer is built from the previous layer (``input_layer``, whose ``.shape``
is the input shape) and a ``name``; it has ``forward(inputs)``, ``backward_inputs(grads)`` and
``backward_params(grads) -> [[param, grad], ..., name]``. A loss has ``forward(x, y)`` and
``backward_inputs(x, y)``; a regularizer ``forward()`` and ``backward_params()``.

A student's file is untrusted: it is imported only in a worker process (:mod:`.worker`, with the
lab's environment of :mod:`.environment` only: numpy, scipy, the standard library, im2col_cython;
own scratch directory, time and memory limits enforced from outside by :mod:`.sandbox`).
This process draws every input, and decides every verdict (:mod:`.checks`) from the plain arrays
the worker sends back: ``backward_inputs`` and each parameter gradient against central finite
differences of the student's own ``forward``; every float array attribute ``forward`` depends on
must come back from ``backward_params``; ``forward`` and the gradients against the jaxdl layer
the class's name stands for (:mod:`.reference`, names kept in ``jaxdl.registry.lab_classes()``); the
return format; arguments or cached activations changed in place; results that depend on call
order; a composite (RegularizedLoss) built from the checker's parts and from the file's own.
Failures carry the tensor, the largest error and, where it reproduces the file's numbers, a
diagnosis (:mod:`.diagnose`). :mod:`.discover` finds the submissions (once per run), :mod:`.grade`
grades them and writes the gradebook, :mod:`.command` is ``jaxdl check-numpy`` (a request in, the
outcome out).

    >>> from jaxdl.check.numpy_check import check_file
    >>> report = check_file("jaxdl/check/lab_reference.py")  # doctest: +SKIP
    >>> report.ok, [c.cls for c in report.classes][:3]  # doctest: +SKIP
    (True, ['FC', 'ReLU', 'Convolution'])
"""

from jaxdl.check.numpy_check.build import load_assignment
from jaxdl.check.numpy_check.command import CheckOutcome
from jaxdl.check.numpy_check.command import CheckRequest
from jaxdl.check.numpy_check.command import check_numpy
from jaxdl.check.numpy_check.discover import BadPath
from jaxdl.check.numpy_check.discover import Found
from jaxdl.check.numpy_check.discover import Submission
from jaxdl.check.numpy_check.discover import discover
from jaxdl.check.numpy_check.grade import DEFAULT_MEMORY_MB
from jaxdl.check.numpy_check.grade import DEFAULT_TIME_LIMIT_S
from jaxdl.check.numpy_check.grade import Options
from jaxdl.check.numpy_check.grade import WeakSandbox
from jaxdl.check.numpy_check.grade import check_file
from jaxdl.check.numpy_check.grade import grade
from jaxdl.check.numpy_check.grade import grade_mode
from jaxdl.check.numpy_check.grade import grade_submission
from jaxdl.check.numpy_check.grade import gradebook_csv
from jaxdl.check.numpy_check.grade import report_json
from jaxdl.check.numpy_check.results import GRADEBOOK_COLUMNS
from jaxdl.check.numpy_check.results import Check
from jaxdl.check.numpy_check.results import ClassResult
from jaxdl.check.numpy_check.results import SubmissionResult
from jaxdl.check.numpy_check.sandbox import CheckerError
from jaxdl.check.numpy_check.sandbox import MODES
from jaxdl.check.numpy_check.worker import InputStub
from jaxdl.fileio import write_atomically

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIME_LIMIT_S",
    "GRADEBOOK_COLUMNS",
    "BadPath",
    "Check",
    "CheckOutcome",
    "CheckRequest",
    "CheckerError",
    "ClassResult",
    "Found",
    "InputStub",
    "Options",
    "MODES",
    "Submission",
    "WeakSandbox",
    "SubmissionResult",
    "check_file",
    "check_numpy",
    "discover",
    "grade",
    "grade_mode",
    "grade_submission",
    "load_assignment",
    "gradebook_csv",
    "report_json",
    "write_atomically",
]
