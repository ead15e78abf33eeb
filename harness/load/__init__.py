"""Locust load scenarios for the harness: shared helpers (``loadtests/*.py`` are thin).

| module | what |
|---|---|
| ``common`` | options, target (profile or emulator child), safety, cost, thresholds, events; the run's state (``LoadRun``) on ``environment.harness``; ``run_once`` for the one-shot scenarios |
| ``emu`` | the emulator config of a scenario without a profile (run by ``harness.emulator.child``) |
| ``wsraw`` | a small gevent WebSocket client with one paced sender for many streams |
| ``wsframes`` | RFC 6455 client frames, the upgrade request and server-frame handling, shared with ``benchmarks/emu_streams.py`` (no I/O) |
| ``judge`` | pure judging: the probe's conclusion, backoff deviations, the soak's lost results and memory growth, ``Measured`` thresholds (no Locust import) |
| ``probe``, ``backoff``, ``streaming``, ``quota``, ``tts``, ``soak`` | the scenarios |
| ``progress`` | a progress line on stderr during a run, and ``series.json`` (no Locust import until installed) |
| ``report`` | key sweep of every output file; ``capacity.html`` (jinja2, ``templates/``) with plots; the end-of-run summary |
| ``runner`` | ``harness load NAME`` |
| ``metrics`` | mergeable log-bucketed histograms and tallies (no Locust import) |
| ``tallies``, ``slo`` | the scenarios' mergeable states and figures; objectives and levels (no Locust) |
| ``distributed``, ``cluster`` | Locust master/worker messages and merging; the processes of ``--workers N`` |
| ``capacity`` | the stepped capacity search (``harness load capacity --surface ...``) |

Importing a scenario module imports Locust, which monkey-patches the process with gevent:
import only ``judge``, ``common``, ``report``, ``runner``, ``metrics``, ``tallies``, ``slo``,
``distributed`` and ``cluster`` from ordinary processes.
"""
