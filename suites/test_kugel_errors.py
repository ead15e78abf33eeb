"""KugelAudio errors: the 20-row payload table, the 5 close codes and the envelope rules.

Every row of the errors page's payload table is provoked over HTTP (faults for the 500
and 503 rows through ``X-Emulator-Fault``, emulator only) and judged against its
row clause; the same answers are then judged against the envelope rules (shape, `code`
equal to the status, documented `error_code`, `error` never needed by a client,
`retry_after` never in the body, Retry-After a valid delay). The WebSocket close codes
are provoked on ``/ws/tts`` and judged for the error frame that must precede them.
Contradictions 13 (403 error_code), 14 (WebSocket credits) and 15 (400 vs 422) are the
disputed clauses at the end.
"""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
from _kugel_helpers import (
    FOREIGN_PROJECT,
    REQ,
    ROWS,
    STATUSES,
    TRIGGERS,
    TTS,
    VOICE,
    WS_SCENARIOS,
    body_of,
    call,
    category,
    close_code_of,
    close_error_code,
    cycle,
    error_of,
    errors,
    is_envelope,
    is_fastapi,
    judge_ws,
    last_frame_was_error,
    validation_side,
    ws_open,
    ws_until_close,
)

from harness.checks import observe_http
from harness.contract.tables import KUGEL_ERRORS
from harness.contract.tables_kugel import PAYLOAD_CODE, slug
from harness.not_tested import CouldNotTest, not_tested

ROW_IDS = {r.message: slug(r.message) for r in KUGEL_ERRORS}
RATE_LIMITED = "Rate limit exceeded"
RETRY_ROWS = (
    RATE_LIMITED,
    "Model overloaded, please try again later.",
    "The requested model is temporarily unavailable. Please try again shortly.",
)
ROW_PAIRS = {(r.error_code, r.status) for r in KUGEL_ERRORS}


def _rows(clause: str | None = None, only: tuple[str, ...] | None = None) -> list[Any]:
    out = []
    for r in KUGEL_ERRORS:
        if only is not None and r.message not in only:
            continue
        cid = clause or f"kugel-http/{ROW_IDS[r.message]}"
        out.append(pytest.param(r.message, marks=pytest.mark.clause(cid), id=ROW_IDS[r.message]))
    return out


def _ws(clause: str, scenarios: tuple[str, ...] = WS_SCENARIOS) -> list[Any]:
    return [pytest.param(s, marks=pytest.mark.clause(clause), id=f"ws-{s}") for s in scenarios]


def _trigger(case: Any, message: str) -> tuple[Any, Any]:
    r = TRIGGERS[message](case)
    if message == RATE_LIMITED and r.status_code != 429:  # no documented request count
        raise CouldNotTest(
            "cannot-provoke",
            "kugel-http: the rate_limited key was never refused, so no 429 to check",
            f"{RATE_LIMITED!r}: the last of its requests answered HTTP {r.status_code}",
        )
    return r, body_of(r)


def _error(case: Any, message: str) -> tuple[Any, Any]:
    """As _trigger, for the rules about error answers: an answer that is no error leaves
    nothing to check (the row's own clause judges it), so the case is an error, not a pass."""
    r, body = _trigger(case, message)
    if r.status_code < 400:
        raise CouldNotTest(
            "cannot-provoke",
            "kugel-http: the request did not provoke an error answer, so there is none to check",
            f"{message!r}: HTTP {r.status_code}",
        )
    return r, body


def _is_422(r: Any, body: Any) -> bool:
    """The 422 side of contradiction 15: the one documented exception to the envelope."""
    return r.status_code == 422 and is_fastapi(body)


def _ws_error(case: Any, scenario: str) -> tuple[Any, dict[str, Any] | None]:
    """Run a close-code scenario; the session and its error payload (frame or refused upgrade)."""
    s = ws_until_close(case, scenario)
    return s, error_of(s.result)


def _framed(case: Any, scenario: str) -> tuple[Any, dict[str, Any]]:
    """As _ws_error, for checks of the error payload: a close without one leaves nothing to
    check (the page makes the frame conditional; kugel-ws/error-frame-before-close judges
    its absence), so the case is not applicable rather than failed."""
    s, err = _ws_error(case, scenario)
    if err is None:
        not_tested(
            "other",
            "kugel-ws: closed without an error frame, so there is no payload to check",
            f"{scenario}: {s.result.describe()}",
        )
    return s, err


# --------------------------------------------------------------------------- payload rows


@pytest.mark.parametrize("message", _rows())
def test_payload_row(case, message):
    r, body = _trigger(case, message)
    # behaviour: the 422 side of contradiction 15 (malformed-request rows are disputed)
    note = f"HTTP {r.status_code} body {str(body)[:160]}"
    case.judge(observe_http(r, behaviour=_is_422(r, body), note=note))


@pytest.mark.clause("kugel-http/forbidden")
def test_forbidden_foreign_project(case):
    r = call(case, "GET", f"/v1/dictionaries?project_id={FOREIGN_PROJECT}")
    case.judge(observe_http(r, note="valid key, project of another organisation"))


@pytest.mark.clause("kugel-http/voice-not-found")
def test_private_voice_of_another_org_is_not_found(case):
    r = call(case, "POST", TTS, json_body={"text": "Hello.", "voice_id": 99})
    case.judge(observe_http(r, note="synthesis with another organisation's private voice"))


# --------------------------------------------------------------------------- envelope rules


@pytest.mark.parametrize("message", _rows("kugel/error-envelope"))
def test_error_envelope_http(case, message):
    r, body = _error(case, message)
    held = is_envelope(body) or _is_422(r, body)
    case.judge(observe_http(r, behaviour=held, note=f"body {str(body)[:160]}"))


@pytest.mark.parametrize("scenario", _ws("kugel/error-envelope"))
def test_error_envelope_ws(case, scenario):
    s, err = _framed(case, scenario)
    judge_ws(case, s.result, behaviour=is_envelope(err), note=f"error payload {err}")


@pytest.mark.parametrize("message", _rows("kugel-http/code-matches-status"))
def test_code_matches_status(case, message):
    r, body = _error(case, message)
    code = body.get("code") if isinstance(body, dict) else None
    held = code == r.status_code or (_is_422(r, body) and code is None)
    case.judge(observe_http(r, behaviour=held, note=f"HTTP {r.status_code}, body code {code!r}"))


@pytest.mark.parametrize("message", _rows("kugel/error-code-documented"))
def test_error_code_documented_http(case, message):
    # Disputed (contradiction 19): the outcomes list each code of the 7- and the 9-code set;
    # behaviour marks a FastAPI 422 body (contradiction 15), which has no error_code.
    r, body = _error(case, message)
    got = body.get("error_code") if isinstance(body, dict) else None
    case.judge(observe_http(r, behaviour=_is_422(r, body), note=f"error_code {got!r}"))


@pytest.mark.parametrize("scenario", _ws("kugel/error-code-documented"))
def test_error_code_documented_ws(case, scenario):
    s, err = _framed(case, scenario)
    got = err.get("error_code") if err else None
    judge_ws(case, s.result, note=f"error_code {got!r}")


@pytest.mark.clause("kugel/error-code-documented")
def test_error_code_documented_ws_missing_voice(case):
    """The condition only the 9-code side names: a /ws/tts request without a voice_id."""
    s = ws_open(case)
    msgs = cycle(s, {"text": "Hello there."})
    errs = errors(s.result)
    if not errs:
        kinds_seen = sorted({k for m in msgs for k in m})[:8]
        raise RuntimeError(
            "not provoked: a request without voice_id got no error frame (a default voice?); "
            f"message keys {kinds_seen}"
        )
    got = errs[-1].get("error_code")
    judge_ws(case, s.result, note=f"no voice_id: error_code {got!r}")


@pytest.mark.parametrize("message", _rows("kugel/error-text-display-only"))
def test_client_branches_without_error_text_http(case, message):
    """A client reading only error_code + code lands in the row's documented category."""
    r, body = _error(case, message)
    want = ROWS[message].error_code
    got = category({k: v for k, v in body.items() if k != "error"} if isinstance(body, dict) else 0)
    held = got == want or (_is_422(r, body) and want == "VALIDATION_ERROR")
    case.judge(observe_http(r, behaviour=held, note=f"client category {got!r}, row {want}"))


@pytest.mark.parametrize("scenario", _ws("kugel/error-text-display-only"))
def test_client_branches_without_error_text_ws(case, scenario):
    s, err = _framed(case, scenario)
    want = close_error_code(scenario)
    got = category({k: v for k, v in err.items() if k != "error"} if err else None)
    judge_ws(case, s.result, behaviour=got == want, note=f"client category {got!r}, want {want}")


@pytest.mark.parametrize("message", _rows("kugel/no-retry-after-in-body"))
def test_no_retry_after_in_body_http(case, message):
    r, body = _error(case, message)
    held = isinstance(body, dict) and "retry_after" not in body
    case.judge(observe_http(r, behaviour=held, note=f"body keys {sorted(body or {})}"))


@pytest.mark.parametrize("scenario", _ws("kugel/no-retry-after-in-body"))
def test_no_retry_after_in_frame(case, scenario):
    s, err = _framed(case, scenario)
    held = isinstance(err, dict) and "retry_after" not in err
    judge_ws(case, s.result, behaviour=held, note=f"frame keys {sorted(err or {})}")


def _valid_delay(value: str) -> bool:
    v = value.strip()
    if v.isdigit():
        return True
    try:
        return email.utils.parsedate_to_datetime(v) is not None
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize("message", _rows("kugel-http/retry-after-header", RETRY_ROWS))
def test_retry_after_header(case, message):
    r, _ = _error(case, message)
    value = r.headers.get("retry-after")
    if value is not None:
        assert _valid_delay(value), f"Retry-After {value!r} is neither delay-seconds nor a date"
    case.judge(observe_http(r, note=f"HTTP {r.status_code}, Retry-After {value!r}"))


# --------------------------------------------------------------------------- close codes


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, marks=pytest.mark.clause(f"kugel-ws/close-{s[:4]}"), id=s)
        for s in WS_SCENARIOS
    ],
)
def test_close_code(case, scenario):
    """The close code is the promise; an error frame, if one came, must match its row."""
    s, _ = _ws_error(case, scenario)
    want_code = close_error_code(scenario)
    want = PAYLOAD_CODE[want_code]
    frames = errors(s.result)
    err = frames[-1] if frames else None
    held = err is None or (err.get("error_code") == want_code and err.get("code") == want)
    judge_ws(
        case, s.result, behaviour=held, note=f"{s.result.describe()}; frame {err}", aspect="close"
    )


@pytest.mark.parametrize("scenario", _ws("kugel-ws/error-frame-before-close"))
def test_error_frame_before_close(case, scenario):
    s, _ = _ws_error(case, scenario)
    held = s.result.close_code == close_code_of(scenario) and last_frame_was_error(s.result)
    judge_ws(case, s.result, behaviour=held, aspect="close")


@pytest.mark.parametrize("scenario", _ws("kugel-ws/close-code-separate"))
def test_close_code_separate(case, scenario):
    s, err = _framed(case, scenario)
    code = err.get("code") if isinstance(err, dict) else None
    held = code in STATUSES and code != s.result.close_code
    judge_ws(
        case, s.result, behaviour=held, note=f"frame code {code!r}, close {s.result.close_code}"
    )


IN_SOCKET = {
    "malformed": "not json at all",
    "no-text": {"voice_id": VOICE},
    "bad-rate": {**REQ, "sample_rate": 44100},
    "hidden-voice": {**REQ, "voice_id": 99},
    "too-long": None,  # built from the profile's max_characters
}


@pytest.mark.parametrize(
    "what",
    [
        *[
            pytest.param(k, marks=pytest.mark.clause("kugel-ws/error-frame-payloads"), id=k)
            for k in IN_SOCKET
        ],
        *_ws("kugel-ws/error-frame-payloads", ("4001", "4003", "4029", "4500", "4000")),
    ],
)
def test_error_frame_payloads(case, what):
    if what in IN_SOCKET:
        s = ws_open(case)
        msg = IN_SOCKET[what]
        if msg is None:
            limit = case.profile.kugel.limits.get("max_characters")
            if not isinstance(limit, int):
                not_tested("missing-limit", "the profile states no kugel.limits.max_characters")
            msg = {**REQ, "text": "a" * (limit + 1)}
        cycle(s, msg)
        errs = errors(s.result)
        err = errs[-1] if errs else None
    else:
        s, err = _framed(case, what)
    pair = (err.get("error_code"), err.get("code")) if err else None
    judge_ws(case, s.result, behaviour=pair in ROW_PAIRS, note=f"frame {err}")


# --------------------------------------------------------------------------- contradictions 13-15


@pytest.mark.clause("kugel-ws/insufficient-credits")
def test_ws_insufficient_credits(case):
    s = ws_open(case, role="no_credits")
    if s.open:
        cycle(s, REQ)
    s.until_close(timeout_s=min(case.timeout_s, 5.0))
    r = s.result
    side = None
    if (
        r.handshake_status == 402
        and is_envelope(s.result.handshake_json)
        and s.result.handshake_json["code"] == 402
    ):
        side = "http-402"
    elif r.close_code == 4003 and last_frame_was_error(r) and errors(r)[-1].get("code") == 402:
        side = "close-4003"
    judge_ws(case, r, side=side, aspect="close")


VALIDATION_BODIES = {
    "missing-text": {"voice_id": VOICE},
    "wrong-type": {"text": 42, "voice_id": VOICE},
    "out-of-range": {"text": "Hello.", "voice_id": VOICE, "speed": 3.0},
    "unknown-field": {"text": "Hello.", "voice_id": VOICE, "colour": "blue"},
}


@pytest.mark.clause("kugel-http/validation-failure")
@pytest.mark.parametrize("what", sorted(VALIDATION_BODIES))
def test_validation_failure(case, what):
    r = call(case, "POST", TTS, json_body=VALIDATION_BODIES[what])
    case.judge(observe_http(r, side=validation_side(r), note=f"{what}: HTTP {r.status_code}"))
