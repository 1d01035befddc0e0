"""`make drill NAME` (cli.py says what it does and how to run it): the bounded load and its ledger
(load.py, ledger.py), the faults and how each target is found and restored (faults.py), the ledger
against the database (reconcile.py), and the timeline plots for docs/reliability.md (plot.py).

Importable with tools/ and tools/bench/ on sys.path (``import drill``), as tests/drill/ does.
"""
