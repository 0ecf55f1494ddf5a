"""The experiments' and the exam's configs: each module's ``get_config()`` returns an
``ml_collections.ConfigDict``. Installed with jaxdl as ``jaxdl.configs``; ``jaxdl train NAME`` and
``jaxdl exam PROBLEM`` load them by name, ``jaxdl train PATH.py`` loads any file of this form."""
