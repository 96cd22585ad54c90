"""The model of a run, its parsers and the control of reruns: one package.

A *run* is one pass of the harness over one recipe: a sweep's (the nightly timer, run id
``sweep-*``) or an isolation run's (a rerun of one recipe alone, run id ``manual`` or
``manual-*``). It leaves a ``results.json`` (per-stage verdicts) and a ``junit/`` directory.

- :mod:`.model`: the data: ``STAGES`` (the harness's stage order), the status words,
  ``Canonical`` (a recipe's last green version) and ``RunSummary`` (one run's verdicts).
- :mod:`.results`: the defensive parsers of results.json and canonical.json (untrusted node
  input), and ``is_isolation_run``, the one test of a run id's kind.
- :mod:`.state`: the node's state as the console sees it: ``RerunState`` (a rerun's state file),
  ``NodeStatus`` (in flight, disk, sweep timer), ``RerunRefused`` and their parsers.
- :mod:`.progress`: a rerun in flight: its stage progress and outcome, parsed from its log.
- :mod:`.control`: ``RunControl``: reads the node's state, starts, finds and cancels reruns.
- :mod:`.book`: ``RerunBook``: the console's bookkeeping of reruns (one wrap-up per run, the
  tracker's row).
- :mod:`.queue`: ``RerunQueue``: reruns queued on the node, worked one at a time.
- :mod:`.ledger`: ``Ledger``: every run of a recipe, from the sweeps and the archive.
- :mod:`.grades`: per-stage verdicts graded by evidence, and "failing since".
- :mod:`.cli`: the ``rerun`` and ``runs`` subcommands.

Names are imported from their module (``from redfix_tui.runs.model import RunSummary``); this
package re-exports nothing.
"""
