"""KugelAudio WebSocket clauses (``kugel-ws``), from the AsyncAPI transcription.

Every KugelAudio clause's text is judged at INFO (``kugel.CLAUSES``). Data only: no I/O.
"""

from __future__ import annotations

from .. import kugel_api as api
from ..build import clause
from ..model import Acceptable, Clause, Tier
from .kugel_shared import (
    O_WORDS,
    S_ROWS,
    T_CHUNK,
    T_CONTROLS,
    T_ERROR_FRAME,
    T_FINAL,
    T_GENERATE,
    T_MULTI,
    T_SETTINGS,
    T_STREAM,
    T_TTS,
    T_WORDS,
    WS,
)

# ----------------------------------------------------- WebSocket (AsyncAPI)

_rates = ", ".join(str(r) for r in api.WS_SAMPLE_RATES)
_WEBSOCKET = (
    clause(
        id="kugel-ws/tts-request-cycle",
        surface=WS,
        requirement=(
            f"On `{api.WS_TTS_PATH}` the client sends one JSON request (text, voice_id, options); "
            "the server streams audio chunk messages and ends the cycle with one `final` "
            "message, after which the same socket takes the next request."
        ),
        sources=(T_TTS, T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(message="final", behaviour="≥1 audio chunk, then final; socket open"),
        ),
        tags=("websocket", "tts"),
    ),
    clause(
        id="kugel-ws/tts-audio-chunk",
        surface=WS,
        requirement=(
            f'Each audio chunk carries `audio` (base64 PCM16, enc "{api.AUDIO_CHUNK_ENCODING}"), '
            "`idx` counting from 0 by one, `sr` equal to the requested sample_rate (default "
            f"{api.DEFAULT_SAMPLE_RATE}) and `samples` equal to the decoded byte count / 2."
        ),
        sources=(T_CHUNK, T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="audio, idx, sr, samples present and consistent"),),
        tags=("websocket", "tts"),
    ),
    clause(
        id="kugel-ws/tts-final",
        surface=WS,
        requirement=(
            "The `final` message has final true, `chunks` equal to the chunks sent, "
            "`total_samples` equal to their sum, timing (dur_ms, gen_ms, rtf) and a `usage` "
            "object (audio_seconds, characters, cost_cents or null, currency, model_id)."
        ),
        sources=(T_FINAL,),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(message="final", behaviour="counts match the chunks received"),),
        tags=("websocket", "tts", "credits"),
    ),
    clause(
        id="kugel-ws/tts-request-validation",
        surface=WS,
        requirement=(
            f"A /ws/tts request without text, or with sample_rate outside {{{_rates}}}, gets a "
            "VALIDATION_ERROR frame (code 400) and no audio; one without voice_id gets that or, "
            "per the transcription, MISSING_VOICE_ID."
        ),
        sources=(T_GENERATE, S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(error_code="VALIDATION_ERROR", behaviour="error frame, code 400"),
            Acceptable(error_code="MISSING_VOICE_ID", behaviour="only when voice_id is missing"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
    clause(
        id="kugel-ws/update-settings",
        surface=WS,
        requirement=(
            "`update_settings` changes the sticky defaults of "
            + ", ".join(api.UPDATE_SETTINGS_FIELDS)
            + " and is acknowledged by `settings_updated`; naming "
            + ", ".join(api.UPDATE_SETTINGS_REJECTED)
            + " instead earns a VALIDATION_ERROR frame."
        ),
        sources=(T_SETTINGS,),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(message="settings_updated"),
            Acceptable(error_code="VALIDATION_ERROR", behaviour="only for identity/format fields"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
    clause(
        id="kugel-ws/stream-turns",
        surface=WS,
        requirement=(
            f"On `{api.WS_STREAM_PATH}` a config message sets sticky options, text arrives in "
            "pieces, and a flush ends the turn with audio chunks and a usage-free `final`; an "
            f"idle turn is flushed after about {api.STREAM_IDLE_AUTO_FLUSH_S:g} s with a warning."
        ),
        sources=(T_STREAM, T_FINAL),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(message="final", behaviour="audio for the turn's text, then final"),),
        tags=("websocket", "tts"),
    ),
    clause(
        id="kugel-ws/stream-controls",
        surface=WS,
        requirement=(
            '`{"cancel": true}` drops the current turn and `{"close": true}` (alias '
            '`end_session`) ends the session, both keeping the socket; `{"close_socket": true}` '
            "ends the session and also shuts the socket."
        ),
        sources=(T_CONTROLS,),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="socket stays open except after close_socket"),),
        tags=("websocket", "tts"),
    ),
    clause(
        id="kugel-ws/word-timestamps",
        surface=WS,
        requirement=(
            "With word_timestamps true a `word_timestamps` message follows the audio; its items "
            "use start_ms/end_ms/char_start/char_end/score per the docs transcription, but "
            "start_s/end_s/confidence in the OpenAPI's WordTimestamp."
        ),
        sources=(T_WORDS, O_WORDS),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(message="word_timestamps", behaviour="items with start_ms, end_ms"),
            Acceptable(
                message="word_timestamps", behaviour="items with start_s, end_s, confidence"
            ),
        ),
        tags=("websocket", "tts"),
    ),
    clause(
        id="kugel-ws/multi-context",
        surface=WS,
        requirement=(
            f"`{api.WS_MULTI_PATH}` carries up to {api.MULTI_MAX_CONTEXTS} streams keyed by "
            f"context_id, each closed after {api.MULTI_CONTEXT_IDLE_S:g} s idle; one more is "
            "refused, per the transcription with TOO_MANY_CONTEXTS, a code the errors page lacks."
        ),
        sources=(T_MULTI, T_ERROR_FRAME),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(error_code="TOO_MANY_CONTEXTS"),
            Acceptable(error_code="VALIDATION_ERROR"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
)

CLAUSES: tuple[Clause, ...] = _WEBSOCKET
