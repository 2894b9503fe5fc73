"""Showing results: aligned tables and JSON, pictures, and the files results are kept in.

* tables — aligned text tables and JSON records;
* records — writing and reading back the records `gilcompare run --output` keeps;
* validate — every file the tool writes or reads, checked: one-line errors, never a traceback;
* plot — speedups as pictures (matplotlib, the ``plot`` extra).
"""
