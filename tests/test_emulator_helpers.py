"""Shared helpers for the emulator tests (no tests here).

Audio comes from ``harness.audio`` (signals + container encoders), built in
memory; the emulator runs in-process on a loopback port and is called over real
HTTP with httpx.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, settings

from harness.audio import signals
from harness.audio.containers import encode_container
from harness.contract import Acceptable, Alternative, Clause, Source, Surface, Tier
from harness.contract import tables as T
from harness.emulator import RunningEmulator, start
from harness.emulator.config import EmulatorConfig, load_config_dict

SR = 16000
VALID = "demo-valid-key"
NO_MODEL = "demo-no-model-access-key"
EXHAUSTED = "demo-quota-exhausted-key"
INVALID = "demo-invalid-key"
SURFACES = ("stt-batch", "vfast-batch", "svd-batch", "pii-batch")
FAST = {"processing": {"time_scale": 0.0}}  # never sleep for modelled processing


def fuzz_settings(max_examples: int) -> settings:
    """Hypothesis settings for a bounded fuzz run against a running emulator: no deadline
    (each example is a round trip), module-scoped fixtures allowed."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def config(data: Mapping[str, Any] | None = None, **kw: Any) -> EmulatorConfig:
    return load_config_dict(dict(FAST, **(data or {})), **kw)


def with_faulty_key(key: str, faults: list[str]) -> EmulatorConfig:
    """One organisation holding the valid demo key and ``key``, which always meets ``faults``."""
    keys = [{"key": VALID, "role": "valid"}, {"key": key, "faults": faults}]
    return config({"orgs": {"o": {"keys": keys}}})


@contextmanager
def running(cfg: EmulatorConfig | None = None) -> Iterator[RunningEmulator]:
    emu = start(cfg or config())
    try:
        yield emu
    finally:
        emu.stop()


def speech(
    duration_s: float, *, lead_s: float = 0.0, trail_s: float = 0.0, seed: int = 0
) -> np.ndarray:
    return signals.speech_bursts(duration_s, SR, lead_s=lead_s, trail_s=trail_s, seed=seed).samples


def encode(samples: np.ndarray, fmt: str = "wav", sr: int = SR) -> bytes:
    return encode_container(samples, sr, fmt)


def wav(duration_s: float, **kw: Any) -> bytes:
    return encode(speech(duration_s, **kw))


def silent_wav(duration_s: float) -> bytes:
    return encode(np.zeros((int(duration_s * SR), 1)))


def header_only_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros((0, 1)), SR, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def post(
    emu: RunningEmulator,
    surface: str,
    data: bytes | None,
    *,
    filename: str = "clip.wav",
    key: str | None = VALID,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> httpx.Response:
    h = dict(headers or {})
    if key is not None:
        h["X-API-Key"] = key
    if data is not None:
        files = {"upload_file": (filename, data)}
    else:  # keep the body multipart, without an upload_file part
        files = {"unrelated": ("note.txt", b"x", "text/plain")}
    url = emu.base_url + T.VELMA_PATHS[surface]
    return httpx.post(url, files=files, data=dict(fields or {}), headers=h, timeout=timeout)


def control(emu: RunningEmulator, method: str, what: str, **kw: Any) -> httpx.Response:
    headers = {"X-Emulator-Token": emu.token, **kw.pop("headers", {})}
    return httpx.request(method, f"{emu.base_url}/_emulator/{what}", headers=headers, **kw)


def multipart_parts(resp: httpx.Response) -> dict[str, tuple[dict[str, str], bytes]]:
    """Split a multipart/form-data response into {name: (headers, body)}."""
    ctype = resp.headers["content-type"]
    assert ctype.startswith("multipart/form-data"), ctype
    boundary = ctype.split("boundary=")[1].strip('"').encode()
    parts: dict[str, tuple[dict[str, str], bytes]] = {}
    for chunk in resp.content.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        name = headers["content-disposition"].split('name="')[1].split('"')[0]
        parts[name] = (headers, body.removesuffix(b"\r\n"))
    return parts


# A synthetic catalog of disputed clauses, so the tests can switch sides
# without depending on how the real catalog words its alternatives.
_SRC = (Source("seeds/x.txt", "s"),)


def _dispute(
    cid: str, surface: Surface, row: int, sides: dict[str, Acceptable], preferred: str
) -> Clause:
    return Clause(
        id=cid,
        surface=surface,
        requirement="r",
        sources=_SRC,
        tier=Tier.MUST,
        alternatives=tuple(Alternative(k, k, _SRC, (o,)) for k, o in sides.items()),
        preferred=preferred,
        rationale="test",
        contradiction=row,
    )


TEST_CATALOG: tuple[Clause, ...] = (
    _dispute("svd-batch/invalid-key", Surface.SVD_BATCH, 4,
             {"401": Acceptable(status=401), "403": Acceptable(status=403)}, "401"),
    _dispute("svd-batch/concurrency-limit", Surface.SVD_BATCH, 2,
             {"429": Acceptable(status=429), "403": Acceptable(status=403)}, "429"),
    _dispute("stt-batch/monthly-quota", Surface.STT_BATCH, 3,
             {"403": Acceptable(status=403, detail=T.DETAIL_MONTHLY_LIMIT),
              "429": Acceptable(status=429, detail=T.DETAIL_INSUFFICIENT_CREDITS)}, "403"),
    _dispute("vfast-batch/container-formats", Surface.VFAST_BATCH, 7,
             {"containers": Acceptable(status=200), "opus-only": Acceptable(status=400)}, "containers"),
    _dispute("svd-batch/empty-file", Surface.SVD_BATCH, 9,
             {"400-empty": Acceptable(status=400, detail=T.DETAIL_EMPTY),
              "422-too-short": Acceptable(status=422, detail=T.DETAIL_TOO_SHORT)}, "400-empty"),
    _dispute("svd-batch/metadata-only", Surface.SVD_BATCH, 9,
             {"422-too-short": Acceptable(status=422, detail=T.DETAIL_TOO_SHORT),
              "400-empty": Acceptable(status=400, detail=T.DETAIL_EMPTY)}, "422-too-short"),
    _dispute("velma/batch-max-size", Surface.VELMA, 10,
             {"accepted": Acceptable(status=200), "timeout-504": Acceptable(status=504),
              "rejected-4xx": Acceptable(status=413)}, "accepted"),
    _dispute("pii-batch/redaction-text", Surface.PII_BATCH, 11,
             {"empty-markers": Acceptable(status=200), "bracket-tags": Acceptable(status=200)},
             "empty-markers"),
    _dispute("stt-batch/utterance-timing", Surface.STT_BATCH, 12,
             {"start-duration": Acceptable(status=200), "end-ms": Acceptable(status=200)},
             "start-duration"),
)  # fmt: skip


def with_alternatives(
    alternatives: Mapping[str, str], data: Mapping[str, Any] | None = None
) -> EmulatorConfig:
    return config({**(data or {}), "alternatives": dict(alternatives)}, catalog=TEST_CATALOG)
