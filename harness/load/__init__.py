"""Locust load scenarios for the harness: shared helpers (``loadtests/*.py`` are thin).

| module | what |
|---|---|
| ``common`` | options, target (profile or emulator child), safety, cost, thresholds, events; the run's state (``LoadRun``) on ``environment.harness`` |
| ``emu`` | the emulator config of a scenario without a profile (run by ``harness.emulator.child``) |
| ``wsraw`` | a small gevent WebSocket client with one paced sender for many streams |
| ``judge`` | pure judging: the probe's conclusion, backoff deviations (no Locust import) |
| ``probe``, ``backoff``, ``streaming``, ``quota``, ``tts`` | the scenarios |
| ``report`` | key sweep of every output file; ``capacity.html`` with plots |
| ``runner`` | ``harness load NAME`` |

Importing a scenario module imports Locust, which monkey-patches the process with gevent:
import only ``judge``, ``common``, ``report`` and ``runner`` from ordinary processes.
"""
