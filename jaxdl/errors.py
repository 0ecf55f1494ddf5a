"""The one error type for a user's mistake.

:class:`InputError` is raised for input a user gave that cannot be used — a layer's argument, a
config field, a data file, a path — with a message naming the thing, what was expected and
what came. The command line reports it as one line with exit code 2. Anything else that goes
wrong is jaxdl's own bug (or the system's) and stays visible: exit code 1, "internal error",
and ``--debug`` shows the traceback. It subclasses ``ValueError``, so ``except ValueError``
keeps working.
"""


class InputError(ValueError):
    """Input that cannot be used; the message names it, what was expected and what came."""
