"""Locust load scenarios for the harness: shared helpers (``loadtests/*.py`` are thin).

| module | what |
|---|---|
| ``common`` | options, target (profile or emulator child), safety, cost, thresholds, events |
| ``emu`` | the emulator as a child process (Locust's gevent cannot host uvicorn) |
| ``wsraw`` | a small gevent WebSocket client with one paced sender for many streams |
| ``judge`` | pure judging: probe verdicts, backoff deviations (no Locust import) |
| ``probe``, ``backoff``, ``streaming``, ``quota``, ``tts`` | the scenarios |
| ``report`` | key sweep of every output file; ``capacity.html`` with plots |
| ``runner`` | ``harness load NAME`` |

Importing a scenario module imports Locust, which monkey-patches the process with gevent:
import only ``judge``, ``common``, ``report`` and ``runner`` from ordinary processes.
"""
