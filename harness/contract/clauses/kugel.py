"""Clauses for KugelAudio TTS (surfaces ``kugel-http``, ``kugel-ws``, ``kugel``), as one group.

Sources, by weight:
- seeds/kugelaudio-errors.txt: the primary contract for the error envelope, the
  20-row payload table and the 5 WebSocket close codes (tables.KUGEL_ERRORS,
  tables.KUGEL_CLOSE_CODES). One clause per row, in ``kugel_errors``.
- specs/kugelaudio/kugelaudio-tts.openapi.json: KugelAudio's own OpenAPI; the REST
  operations (harness.contract.kugel_api.REST_OPERATIONS), one clause each, in ``kugel_http``.
- specs/kugelaudio/kugelaudio-tts-streaming.asyncapi.yml and
  kugelaudio-error-codes.yml: third-party transcriptions of KugelAudio's docs
  (``kugel_ws`` and parts of ``kugel_errors``). Clauses resting only on them are SHOULD
  or INFO and say so.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import Clause, Tier
from . import kugel_errors, kugel_http, kugel_ws

# The errors page tells clients to show `error` and never parse it: on every KugelAudio
# clause the text is recorded (wording INFO), while status, error_code and code are judged.
CLAUSES: tuple[Clause, ...] = tuple(
    replace(c, wording=Tier.INFO)
    for c in (*kugel_errors.CLAUSES, *kugel_http.CLAUSES, *kugel_ws.CLAUSES)
)
