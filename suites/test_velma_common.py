"""Cross-surface Velma-2 promises: error shapes, extensions, close codes, end of stream.

REST cases provoke errors of several kinds on every batch surface and check the body
shape; streaming cases provoke each documented cause of a close and check the code
that comes back, that an ``error`` precedes every non-1000 close, and how the input
ends (an empty text frame, never an empty binary frame).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from _params import surface_params

from harness.audio import encode_raw, signals
from harness.checks import Observation, observe_http, observe_ws
from harness.client.control import fault_header
from harness.contract.tables import (
    DETAIL_UNSUPPORTED_COMMON,
    DETAIL_UNSUPPORTED_SVD,
    REST_SURFACES,
    STREAM_SURFACES,
    VELMA_CLOSE_CODES,
    VELMA_HOST_PAGES,
    VELMA_HOST_SPECS,
)
from harness.not_tested import not_tested

REST = REST_SURFACES
STREAM = STREAM_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}
RESULT_TYPES = {"stt-stream": "utterance", "svd-stream": "frame", "pii-stream": "utterance"}
TOLERANCE_MS = 50


def speech16(seconds: float, seed: int = 3) -> bytes:
    sig = signals.speech_bursts(seconds, 16000, 1, seed=seed, burst_s=(0.3, 0.5))
    return encode_raw(sig.samples, "s16le")


def chunks(data: bytes, size: int = 3200) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --------------------------------------------------------------------------- REST error shapes


def _json_detail(r: Any) -> tuple[bool, str]:
    ctype = r.headers.get("content-type", "")
    try:
        body = r.json()
    except ValueError:
        body = None
    ok = ctype.split(";")[0].strip() == "application/json" and isinstance(body, dict)
    ok = ok and isinstance(body.get("detail"), str)
    return ok, f"HTTP {r.status_code}, content-type {ctype!r}, body {r.text[:120]!r}"


def _provoke(case: Any, surface: str, how: str) -> Any:
    if how == "unsupported-extension":
        return case.upload(surface, case.fixture("unsupported-ext-wav-named-txt"))
    if how == "invalid-key":
        return case.upload(surface, case.fixture(CLIP), role="invalid")
    if how == "no-model-access":
        return case.upload(surface, case.fixture(CLIP), role="no_model_access")
    if how == "overload":
        case.emulator()
        return case.upload(surface, case.fixture(CLIP), headers=fault_header("overload"))
    raise AssertionError(how)


PROVOCATIONS = ("unsupported-extension", "invalid-key", "no-model-access", "overload")
# Every surface gets two provocations and every provocation two surfaces (8 cases, not 16).
ERROR_PAIRS = [(s, PROVOCATIONS[(i + k) % 4]) for i, s in enumerate(REST) for k in (0, 2)]


@pytest.mark.clause("velma/error-body-detail")
@pytest.mark.parametrize(("surface", "how"), ERROR_PAIRS, ids=[f"{h}-{s}" for s, h in ERROR_PAIRS])
def test_error_body_is_json_detail(case, surface, how):
    r = _provoke(case, surface, how)
    if r.status_code < 400 or r.status_code == 422:
        not_tested(
            "other", f"{how} gave HTTP {r.status_code}; the clause covers 4xx/5xx other than 422"
        )
    ok, note = _json_detail(r)
    case.judge(observe_http(r, behaviour=ok, note=note))


def _fastapi_list(detail: Any) -> bool:
    return (
        isinstance(detail, list)
        and bool(detail)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("loc"), list)
            and all(isinstance(x, str | int) for x in e["loc"])
            and isinstance(e.get("msg"), str)
            and isinstance(e.get("type"), str)
            for e in detail
        )
    )


@pytest.mark.clause("velma/error-422-shape")
@pytest.mark.parametrize("surface", REST)
@pytest.mark.parametrize("how", ["no-upload-part", "no-key"])
def test_422_body_shape(case, surface, how):
    if how == "no-upload-part":
        r = case.upload(surface, None, fields={"note": "no file part"})
    else:
        r = case.upload(surface, case.fixture(CLIP), role=None)
        if r.status_code != 422:
            not_tested("other", f"a missing key got HTTP {r.status_code}, not a 422 body to check")
    _judge_422_shape(case, r)


def _judge_422_shape(case: Any, r: Any) -> None:
    """A 422 body's `detail`: a string, or FastAPI's list of {loc, msg, type}."""
    try:
        detail = r.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    ok = isinstance(detail, str) or _fastapi_list(detail)
    case.judge(observe_http(r, behaviour=ok, note=f"detail={str(detail)[:160]!r}"))


@pytest.mark.clause("velma/error-422-shape")
def test_422_body_shape_too_short(case):
    r = case.upload("svd-batch", case.fixture("clip-wav-16000-1ch-0.3s"), audio_seconds=0.3)
    _judge_422_shape(case, r)


# --------------------------------------------------------------------------- extensions


@pytest.mark.clause("velma/extension-decides")
@pytest.mark.parametrize("surface", REST)
def test_unlisted_extension_refused(case, surface):
    """Valid WAV bytes named ``.txt``: refused 400 (the status is the promise; the
    unsupported-format text is an example, judged as wording by ``<surface>/unsupported-format``)."""
    r = case.upload(surface, case.fixture("unsupported-ext-wav-named-txt"))
    documented = DETAIL_UNSUPPORTED_SVD if surface == "svd-batch" else DETAIL_UNSUPPORTED_COMMON
    detail = observe_http(r).detail
    ok = r.status_code == 400
    note = f"detail={detail!r} (documented example: {documented!r})"
    case.judge(observe_http(r, behaviour=ok, note=note))


# --------------------------------------------------------------------------- close codes

# What each provoked cause may close with: the documented code(s) for that cause.
CAUSES: dict[str, tuple[int, ...]] = {
    "normal": (1000,),
    "invalid-params": (1003,),
    "internal-error": (1011,),
    "invalid-key": (4001, 4003),  # 4001 on STT, 4003 on SVD (contradiction 5)
    "undecodable": (4002,),
    "no-model-access": (4003,),
    "quota-exhausted": (4029, 4003),  # 4003 for SVD usage denial (contradiction 6)
}


def _cause(case: Any, surface: str, cause: str) -> Any:
    audio = chunks(speech16(0.6))
    if cause == "normal":
        return case.stream(surface, RAW16, audio, audio_seconds=0.6)
    if cause == "invalid-params":
        return case.stream(surface, {**RAW16, "sample_rate": 12345}, audio)
    if cause == "invalid-key":
        return case.stream(surface, RAW16, audio, role="invalid")
    if cause == "no-model-access":
        return case.stream(surface, RAW16, audio, role="no_model_access")
    if cause == "quota-exhausted":
        return case.stream(surface, RAW16, audio, role="quota_exhausted")
    if cause == "undecodable":
        data = case.fixture_bytes("corrupt-wav-bad-magic")
        return case.stream(surface, {"audio_format": "wav"}, chunks(data, 16000), audio_seconds=2)
    if cause == "internal-error":
        control = case.emulator()
        before = control.state()["switches"]
        control.switches(faults=["internal-midstream=2f"], deviations=before["deviations"])
        try:
            return case.stream(surface, RAW16, audio, audio_seconds=0.6)
        finally:
            control.switches(faults=before["faults"], deviations=before["deviations"])
    raise AssertionError(cause)


def _cause_params(causes: Any) -> list[Any]:
    """``internal-error`` switches a fault on for every stream: that case runs alone."""
    alone = pytest.mark.alone("switches a mid-stream fault on for every stream")
    return [pytest.param(c, marks=alone) if c == "internal-error" else c for c in causes]


@pytest.mark.parametrize("surface", STREAM)
@pytest.mark.parametrize("cause", _cause_params(CAUSES))
@pytest.mark.clause("velma/close-codes")
def test_close_code_matches_cause(case, surface, cause):
    result = _cause(case, surface, cause)
    code = result.close_code
    ok = code in CAUSES[cause] and code in VELMA_CLOSE_CODES
    if cause == "normal":
        ok = ok and "done" in result.types
    note = (
        f"provoked {cause}: {result.describe()}; documented for it: {CAUSES[cause]}"
        f" ({VELMA_CLOSE_CODES.get(code, 'not a documented code')})"
    )
    case.judge(observe_ws(result, behaviour=ok, note=note), aspect="close")


@pytest.mark.parametrize("surface", STREAM)
@pytest.mark.parametrize(
    "cause", _cause_params(["invalid-params", "internal-error", "invalid-key", "undecodable"])
)
@pytest.mark.clause("velma/ws-error-before-close")
def test_error_before_non_1000_close(case, surface, cause):
    result = _cause(case, surface, cause)
    if result.close_code in (None, 1000):
        not_tested("other", f"{cause} did not end in a non-1000 close ({result.describe()})")
    if result.close_code == 4001:  # STT's invalid-key code: no spec pairs it with an error
        not_tested("other", "closed 4001: no document promises an `error` message before that code")
    err = result.last_error or {}
    ok = result.error_before_close and isinstance(err.get("error"), str)
    case.judge(observe_ws(result, behaviour=ok, note=result.describe()), aspect="close")


# --------------------------------------------------------------------------- end of stream


def _result_end_ms(surface: str, message: dict[str, Any]) -> int | None:
    if surface == "svd-stream":
        return (message.get("frame") or {}).get("end_time_ms")
    u = message.get("utterance") or {}
    if isinstance(u.get("start_ms"), int) and isinstance(u.get("duration_ms"), int):
        return u["start_ms"] + u["duration_ms"]
    return None


@pytest.mark.parametrize("surface", surface_params("velma/end-of-stream", STREAM))
def test_empty_text_frame_ends_stream(case, surface):
    seconds = 1.2
    result = case.stream(surface, RAW16, chunks(speech16(seconds)), audio_seconds=seconds)
    json_order = [o for o in result.order if o.startswith("json:")]
    problems = []
    if not json_order:
        problems.append("no JSON message arrived")
    elif json_order[-1] != "json:done":
        problems.append(f"`done` is not the last message: {json_order[-4:]}")
    results = result.of_type(RESULT_TYPES[surface])
    if not results:
        problems.append("no result before `done`")
    done = result.of_type("done")
    got = done[-1].get("duration_ms") if done else None
    if not isinstance(got, int) or abs(got - seconds * 1000) > TOLERANCE_MS:
        problems.append(f"done.duration_ms={got!r} for {seconds * 1000:.0f} ms sent")
    ends = [e for e in (_result_end_ms(surface, m) for m in results) if isinstance(e, int)]
    if ends and max(ends) < seconds * 1000 - 600:
        problems.append(f"results stop at {max(ends)} ms of {seconds * 1000:.0f} ms sent")
    case.judge(
        observe_ws(result, behaviour=not problems, note="; ".join(problems) or result.describe()),
        aspect="data",
    )
    case.judge(
        observe_ws(result, behaviour=result.closed_by == "server", note=result.describe()),
        aspect="close",
    )


@pytest.mark.parametrize("surface", surface_params("velma/empty-binary-not-eos", STREAM))
def test_empty_binary_frame_is_not_end(case, surface):
    half = 0.6
    case.charge(surface, 2 * half)
    ws = case.ws(surface, RAW16)
    problems = []
    if not ws.open:
        problems.append(f"not opened: {ws.result.describe()}")
    else:
        ws.stream(chunks(speech16(half, seed=4)))
        ws.send_bytes(b"")
        ws.receive(until_close=False, timeout_s=0.4)
        if "done" in ws.result.types or ws.result.close_code is not None:
            problems.append(f"the empty binary frame ended the input: {ws.result.describe()}")
        ws.stream(chunks(speech16(half, seed=5)))
        ws.end_of_stream()
        ws.until_close()
    ws.close()
    result = ws.result
    done = result.of_type("done")
    got = done[-1].get("duration_ms") if done else None
    if not isinstance(got, int) or abs(got - 2 * half * 1000) > TOLERANCE_MS:
        problems.append(
            f"done.duration_ms={got!r}: the audio after the empty frame was not analysed"
        )
    case.judge(
        observe_ws(result, behaviour=not problems, note="; ".join(problems) or result.describe()),
        aspect="data",
    )


# --------------------------------------------------------------------------- host (row 18)


def _documented_host(url: str | None) -> str | None:
    """The documented Velma-2 host ``url`` is on (the host itself or a subdomain), else None."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    for documented in (VELMA_HOST_PAGES, VELMA_HOST_SPECS):
        if host == documented or host.endswith("." + documented):
            return documented
    return None


@pytest.mark.clause("velma/host")
def test_velma_host(case):
    """Judged from the profile's base URLs: no request can show which host is the vendor's."""
    velma = case.profile.velma
    urls = {"base_url": velma.base_url, "ws_base_url": velma.ws_base_url}
    hosts = {name: _documented_host(url) for name, url in urls.items() if url}
    if not hosts:
        not_tested("missing-surface", "the profile has no Velma-2 base URL")
    on = {h for h in hosts.values() if h}
    if not on:
        seen = ", ".join(f"{n} host {urlsplit(u).hostname}" for n, u in urls.items() if u)
        not_tested("other", f"the target is not on a vendor host ({seen})")
    side = hosts.get("base_url") or on.pop()  # the HTTP base URL decides when they differ
    note = "; ".join(f"{n} on {h or 'another host'}" for n, h in hosts.items())
    case.judge(Observation(behaviour=True, side=side, note=note))
