"""The pytest side of a conformance run: target, ``case`` fixture, verdicts, report.

``suites/conftest.py`` imports the hooks (:mod:`.hooks`), so both ``harness run`` and plain
``pytest suites [--target FILE]`` use them. A case is a pytest test marked with the clause
it checks (``@pytest.mark.clause("svd-batch/too-short")``) that takes the ``case`` fixture,
talks to the target through it, and calls ``case.judge``. Each case becomes one record of
``conformance.json``; a case that never judges is an ``error`` (a check that cannot fail is
worse than none). One job per module:

- :mod:`.hooks`: the pytest hooks and the ``case`` fixture, nothing else;
- :mod:`.session`: the run's :class:`~.session.HarnessSession` and how it is opened;
- :mod:`.reach`: is the target there (preflight at start, after a connection error)?
- :mod:`.cost`: the live-cost estimate of the selection, and the cap;
- :mod:`.case`: :class:`~.case.CaseContext`, what a case talks and judges through;
- :mod:`.entries`: one typed report record per case, built from its verdicts;
- :mod:`.allure`: the record's labels and attachments in Allure;
- :mod:`.schedule`: what each case needs of the target, and which cases start next;
- :mod:`.parallel`: ``--jobs``: the cases on threads, logged in collection order.
"""
