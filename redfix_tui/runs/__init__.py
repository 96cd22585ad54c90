"""The model of a run, its parsers and the control of reruns: one package.

A *run* is one pass of the harness over one recipe: a sweep's (the nightly timer, run id
``sweep-*``) or an isolation run's (a rerun of one recipe alone, run id ``manual`` or
``manual-*``, archived by the rerun wrapper under a UTC start stamp). It leaves a
``results.json`` (per-stage verdicts) and a ``junit/`` directory.

- :mod:`.model`: the data. ``STAGES`` (the harness's stage order); ``Status``, the one status
  vocabulary of test cases and stage verdicts, with ``BAD``, ``GOOD`` and ``VERDICTS``;
  ``Canonical`` (a recipe's last green version); ``RunSummary``, the one record of a run (its
  stage verdicts, tag, finish time and, when known, kind, exit status, canonical and user).
- :mod:`.results`: the defensive parsers of results.json and canonical.json (untrusted node
  input) and ``is_isolation_run``, the one test of a run id's kind.
- :mod:`.state`: the node's state as the console sees it: ``RerunState`` (a rerun's state file),
  ``NodeStatus`` (in flight, disk, sweep timer), ``Process``, ``RerunRefused``, their parsers.
- :mod:`.progress`: a rerun in flight: ``RunProgress`` (its stage, from the log's banners) and
  ``RunOutcome`` (how it ended), parsed from what the node sends.
- :mod:`.control`: ``RunControl`` reads the node's state, starts, finds and cancels reruns.
- :mod:`.book`: ``RerunBook``, the console's bookkeeping of reruns (one wrap-up per run, its
  tracker row).
- :mod:`.queue`: ``RerunQueue``, reruns queued on the node and worked one at a time.
- :mod:`.ledger`: ``Ledger`` reads every run of every recipe (sweeps and the archive) in one
  command; ``RecipeLedger`` holds one recipe's runs, newest first.
- :mod:`.grades`: per-stage verdicts graded by evidence, and "failing since".
- :mod:`.cli`: the ``rerun`` and ``runs`` subcommands.

Two other classes carry a run, for other jobs, and are not records of it:
:class:`redfix_tui.junit.remote.RemoteRun` is a run's files as fetched from the node (bytes by
path, for the JUnit pane and the history view to load), and :class:`redfix_tui.junit.model.Run`
is those files parsed: every JUnit case of the run, for the drill-down and the comparison. Both
are keyed by the same run id and directory as the run's ``RunSummary`` (``run_id``, ``path``);
the summary says *what* the run ended as, the JUnit ``Run`` says *which tests* made it so.

Names are imported from their module (``from redfix_tui.runs.model import RunSummary``); this
package re-exports nothing.
"""
