"""The declarative list of fixtures the factory builds, and the clause IDs they serve."""

from __future__ import annotations

import math
from functools import cache

from harness.contract.tables import (
    CONTAINER_FORMATS,
    MAX_BATCH_UPLOAD_BYTES,
    MAX_BATCH_UPLOAD_BYTES_BINARY,
    MAX_CHANNELS,
    MIN_CHANNELS,
    MIN_SVD_DURATION_S,
    RAW_FORMATS,
    REST_SURFACES,
    SAMPLE_RATES,
    STREAM_SURFACES,
    SVD_WINDOW_S,
)

from .specs import FixtureSpec, Params, SignalSpec

# Clause IDs (written in harness.contract by others) that fixtures are tagged with.
REFERENCED_CLAUSES: tuple[str, ...] = (
    "velma/raw-formats",
    "velma/raw-sample-rates",
    "velma/raw-channels",
    "velma/batch-max-size",
    "velma/batch-timeout",
    "velma/extension-decides",
    "stt-batch/empty-file",
    "vfast-batch/empty-file",
    "svd-batch/empty-file",
    "pii-batch/empty-file",
    "stt-batch/unsupported-format",
    "vfast-batch/unsupported-format",
    "svd-batch/unsupported-format",
    "pii-batch/unsupported-format",
    "stt-batch/undecodable",
    "vfast-batch/undecodable",
    "svd-batch/undecodable",
    "pii-batch/undecodable",
    "stt-batch/container-formats",
    "vfast-batch/container-formats",
    "svd-batch/container-formats",
    "pii-batch/container-formats",
    "svd-batch/too-short",
    "svd-batch/metadata-only",
    "svd-batch/window-padding",
    "svd-batch/silence-trim-timestamps",
    "svd-batch/no-content",
    "stt-batch/utterance-timing",
    "pii-batch/redaction-ranges",
    "pii-batch/silenced-audio",
    "stt-stream/bad-query-params",
    "svd-stream/bad-query-params",
    "pii-stream/bad-query-params",
    "stt-stream/format-mismatch",
    "svd-stream/format-mismatch",
    "pii-stream/format-mismatch",
    "stt-stream/undecodable",
    "svd-stream/undecodable",
    "pii-stream/undecodable",
    "svd-stream/container-input",
    "stt-stream/utterance-timing",
    "svd-stream/first-result",
    "pii-stream/redaction-ranges",
    "stt-batch/duration-ms",
    "vfast-batch/duration-ms",
    "svd-batch/duration-ms",
    "pii-batch/duration-ms",
)

# Tags that name the edge cases the catalog must cover (checked by the tests).
EDGE_CASE_TAGS: tuple[str, ...] = (
    "empty",
    "header-only",
    "metadata-only",
    "truncated",
    "corrupt",
    "wrong-extension",
    "unsupported-extension",
    "container-as-raw",
    "partial-frame",
    "mismatch",
    "invalid-channels",
    "undocumented-rate",
    "silence",
    "leading-silence",
    "trailing-silence",
    "too-short",
    "short-clip",
    "multichannel",
    "long",
    "oversize",
    "speech-segments",
    "speakers",
    "true-duration",
)

SHORT_CLIPS_S = (0.1, 0.3, 0.49, 0.5, 0.51)
# Lengths other than the everyday 2 s, so that a check of a reported duration cannot pass
# on a target that answers the same number whatever it is sent.
OTHER_DURATIONS_S = (1.3, 3.7)
LONG_S = 62.0  # over the 60 s batch processing limit, with a second to spare
UNDOCUMENTED_RATE = 12345
INVALID_CHANNELS = (MIN_CHANNELS - 1, MAX_CHANNELS + 1)


def _each(surfaces: tuple[str, ...], clause: str) -> tuple[str, ...]:
    return tuple(f"{s}/{clause}" for s in surfaces)


EMPTY = _each(REST_SURFACES, "empty-file")
UNSUPPORTED = _each(REST_SURFACES, "unsupported-format")
UNDECODABLE = _each(REST_SURFACES, "undecodable") + _each(STREAM_SURFACES, "undecodable")
BAD_QUERY = _each(STREAM_SURFACES, "bad-query-params")
MISMATCH = _each(STREAM_SURFACES, "format-mismatch")
SPEECH_TIMING = (
    "stt-batch/utterance-timing",
    "pii-batch/redaction-ranges",
    "pii-batch/silenced-audio",
    "svd-batch/silence-trim-timestamps",
)
STREAM_TIMING = ("stt-stream/utterance-timing", "pii-stream/redaction-ranges")


def _speech(duration_s: float, rate: int, channels: int = 1, seed: int = 0, **kw) -> SignalSpec:
    params: Params = (("seed", seed),) + tuple(sorted(kw.items()))
    return SignalSpec("speech", duration_s, rate, channels, params)


def _dur(seconds: float) -> str:
    return f"{seconds:g}s"


def _container_clauses(fmt: str) -> tuple[str, ...]:
    out = tuple(f"{s}/container-formats" for s in REST_SURFACES if fmt in CONTAINER_FORMATS[s])
    if fmt in CONTAINER_FORMATS["svd-stream"]:
        out += ("svd-stream/container-input",)
    return out


def _raw(
    fmt: str,
    rate: int,
    ch: int,
    seconds: float = 1.0,
    *,
    id: str | None = None,
    kind: str = "raw",
    signal: SignalSpec | None = None,
    tags: tuple[str, ...] = (),
    clauses: tuple[str, ...] = (),
    declared: Params | None = None,
    damage: tuple[Params, ...] = (),
    note: str = "",
) -> FixtureSpec:
    return FixtureSpec(
        id=id or f"raw-{fmt}-{rate}-{ch}ch-{_dur(seconds)}",
        kind=kind,
        source="raw",
        audio_format=fmt,
        ext="raw",
        sample_rate=rate,
        num_channels=ch,
        signal=signal or _speech(seconds, rate, ch),
        damage=damage,
        tags=("raw",) + tags,
        clauses=clauses,
        declared=declared,
        note=note,
    )


def _container(
    fmt: str,
    rate: int,
    ch: int,
    seconds: float = 2.0,
    *,
    id: str | None = None,
    kind: str = "container",
    subtype: str | None = None,
    signal: SignalSpec | None = None,
    ext: str | None = None,
    tags: tuple[str, ...] = (),
    clauses: tuple[str, ...] | None = None,
    declared: Params | None = None,
    damage: tuple[Params, ...] = (),
    note: str = "",
) -> FixtureSpec:
    label = fmt if subtype is None else f"{fmt}-{subtype.lower().replace('_', '')}"
    return FixtureSpec(
        id=id or f"{label}-{rate}-{ch}ch-{_dur(seconds)}",
        kind=kind,
        source="container",
        audio_format=fmt,
        ext=ext or fmt,
        sample_rate=rate,
        num_channels=ch,
        signal=signal or _speech(seconds, rate, ch),
        options=(("subtype", subtype),) if subtype else (),
        damage=damage,
        tags=("container",) + tags,
        clauses=_container_clauses(fmt) if clauses is None else clauses,
        declared=declared,
        note=note,
    )


def _declared(fmt: str, rate: int, ch: int) -> Params:
    return (("audio_format", fmt), ("sample_rate", rate), ("num_channels", ch))


def _raw_formats() -> list[FixtureSpec]:
    """Every documented raw format once; rates cycle so every documented rate appears."""
    out = []
    for i, fmt in enumerate(RAW_FORMATS):
        rate = SAMPLE_RATES[i % len(SAMPLE_RATES)]
        ch = 1 + i % 2
        out.append(
            _raw(
                fmt.name,
                rate,
                ch,
                signal=_speech(1.0, rate, ch, seed=i),
                tags=("raw-format",),
                clauses=("velma/raw-formats", "velma/raw-sample-rates"),
            )
        )
    recommended = (
        ("s16le", 16000, 1),
        ("f32le", 48000, 1),
        ("s16le", 48000, 2),
        ("mulaw", 8000, 1),
        ("alaw", 8000, 1),
    )
    for fmt, rate, ch in recommended:
        out.append(
            _raw(
                fmt,
                rate,
                ch,
                3.0,
                tags=("recommended-setup", "speech-segments"),
                clauses=("velma/raw-formats", "svd-stream/first-result") + STREAM_TIMING,
            )
        )
    for ch in range(MIN_CHANNELS, MAX_CHANNELS + 1):
        out.append(
            _raw(
                "s16le",
                16000,
                ch,
                tags=("multichannel", f"channels-{ch}"),
                clauses=("velma/raw-channels",),
            )
        )
    return out


def _containers() -> list[FixtureSpec]:
    out = [
        _container("wav", 16000, 1, subtype=st)
        for st in ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT")
    ]
    out += [_container("wav", 8000, 1, subtype=st) for st in ("ULAW", "ALAW")]
    out += [
        _container("flac", 16000, 1),
        _container("ogg", 44100, 2),
        _container("opus", 48000, 1),
        _container("mp3", 44100, 2),
        _container("webm", 48000, 1),
        _container("mp4", 44100, 1),
        _container("mov", 44100, 1),
        _container("aiff", 16000, 1),
        _container("aac", 44100, 1),
        # .au is documented for deepfake batch only: unsupported on the other batch endpoints
        _container(
            "au",
            16000,
            1,
            tags=("unsupported-extension",),
            clauses=_container_clauses("au") + UNSUPPORTED[:2] + UNSUPPORTED[3:],
        ),
    ]
    for ch in range(MIN_CHANNELS + 1, MAX_CHANNELS + 1):
        out.append(
            _container(
                "wav", 16000, ch, 1.0, subtype="PCM_16", tags=("multichannel", f"channels-{ch}")
            )
        )
    return out


def _damaged() -> list[FixtureSpec]:
    trunc = (("op", "truncate"), ("fraction", 0.5))
    splice = (("op", "splice"), ("at", 0.5), ("length", 512))
    magic = (("op", "magic"), ("magic", "XXXX"))
    out = [
        _container(
            fmt,
            rate,
            1,
            id=f"truncated-{fmt}-half",
            kind="truncated",
            damage=(trunc,),
            tags=("truncated",),
            clauses=UNDECODABLE,
            note="first half of the bytes of an intact file; duration_s is the intact "
            "file's, and only part of it (or none, for mp4) is decodable",
        )
        for fmt, rate in (
            ("wav", 16000),
            ("flac", 16000),
            ("ogg", 44100),
            ("mp3", 44100),
            ("webm", 48000),
            ("mp4", 44100),
        )
    ]
    out.append(
        _container(
            "wav",
            16000,
            1,
            id="truncated-wav-inside-header",
            kind="truncated",
            damage=((("op", "cut"), ("bytes", 30)),),
            tags=("truncated",),
            clauses=UNDECODABLE,
            note="30 bytes: cut inside the 44-byte WAV header",
        )
    )
    out += [
        _container(
            fmt,
            rate,
            1,
            id=f"corrupt-{fmt}-garbage-middle",
            kind="corrupt",
            damage=(splice,),
            tags=("corrupt",),
            clauses=UNDECODABLE,
            note="512 seeded random bytes overwrite the middle of an intact file",
        )
        for fmt, rate in (
            ("flac", 16000),
            ("ogg", 44100),
            ("mp3", 44100),
            ("webm", 48000),
            ("mp4", 44100),
        )
    ]
    out += [
        _container(
            fmt,
            16000,
            1,
            id=f"corrupt-{fmt}-bad-magic",
            kind="corrupt",
            damage=(magic,),
            tags=("corrupt", "bad-magic"),
            clauses=UNDECODABLE,
            note="file signature overwritten with 'XXXX'",
        )
        for fmt in ("wav", "flac")
    ]
    return out


def _misnamed() -> list[FixtureSpec]:
    return [
        _container("wav", 16000, 1, id="wrong-ext-wav-named-mp3", kind="wrong-extension",
                   ext="mp3", tags=("wrong-extension",),
                   clauses=("velma/extension-decides",) + UNDECODABLE[:4],
                   declared=(("audio_format", "mp3"),),
                   note="valid WAV bytes saved as .mp3; batch endpoints decode by extension"),
        _container("mp3", 44100, 1, id="wrong-ext-mp3-named-wav", kind="wrong-extension",
                   ext="wav", tags=("wrong-extension",),
                   clauses=("velma/extension-decides",) + UNDECODABLE[:4],
                   declared=(("audio_format", "wav"),),
                   note="valid MP3 bytes saved as .wav"),
        _container("wav", 16000, 1, id="unsupported-ext-wav-named-txt", kind="wrong-extension",
                   ext="txt", tags=("unsupported-extension",), clauses=UNSUPPORTED,
                   declared=(("audio_format", "txt"),),
                   note="valid WAV bytes with an extension no endpoint lists"),
    ]  # fmt: skip


def _mismatched() -> list[FixtureSpec]:
    out = [
        _container(
            fmt,
            rate,
            1,
            id=f"container-as-raw-{fmt}-declared-s16le",
            kind="mismatch",
            tags=("mismatch", "container-as-raw"),
            clauses=MISMATCH,
            declared=_declared("s16le", 16000, 1),
            note=f"a whole {fmt} file sent where raw s16le is declared",
        )
        for fmt, rate in (("wav", 16000), ("webm", 48000))
    ]
    out += [
        _raw("f32le", 16000, 1, id="mismatch-f32le-declared-s16le", kind="mismatch",
             tags=("mismatch",), clauses=MISMATCH, declared=_declared("s16le", 16000, 1),
             note="f32le bytes declared as s16le (decodes, at twice the length, as noise)"),
        _raw("s16le", 44100, 1, id="mismatch-44100-declared-16000", kind="mismatch",
             tags=("mismatch",), clauses=MISMATCH, declared=_declared("s16le", 16000, 1),
             note="44.1 kHz samples declared as 16 kHz"),
        _raw("s16le", 16000, 2, id="mismatch-stereo-declared-mono", kind="mismatch",
             tags=("mismatch",), clauses=MISMATCH, declared=_declared("s16le", 16000, 1),
             note="interleaved stereo declared as mono"),
    ]  # fmt: skip
    out += [
        _raw(
            fmt,
            rate,
            ch,
            id=f"raw-{fmt}-{rate}-{ch}ch-partial-frame",
            kind="partial-frame",
            damage=((("op", "partial-frame"), ("extra", extra)),),
            tags=("partial-frame",),
            clauses=("velma/raw-formats",) + UNDECODABLE[4:],
            note=f"{extra} trailing bytes that do not make a whole frame",
        )
        for fmt, rate, ch, extra in (
            ("s16le", 16000, 1, 1),
            ("s24le", 48000, 2, 4),
            ("f32le", 16000, 1, 3),
        )
    ]
    return out


def _invalid_params() -> list[FixtureSpec]:
    bad_channels = [
        _raw(
            "s16le",
            16000,
            max(n, 1),
            id=f"raw-s16le-16000-declared-{n}ch",
            kind="invalid-params",
            signal=_speech(1.0, 16000, max(n, 1)),
            tags=("invalid-channels",),
            clauses=("velma/raw-channels",) + BAD_QUERY,
            declared=_declared("s16le", 16000, n),
            note=f"num_channels={n} is outside the documented range; "
            + ("the bytes are mono" if n < 1 else f"the bytes really have {n} channels"),
        )
        for n in INVALID_CHANNELS
    ]
    bad_rate = _raw(
        "s16le",
        UNDOCUMENTED_RATE,
        1,
        kind="invalid-params",
        tags=("undocumented-rate",),
        clauses=("velma/raw-sample-rates",) + BAD_QUERY,
        declared=_declared("s16le", UNDOCUMENTED_RATE, 1),
        note="a sample rate not in the documented list",
    )
    return [*bad_channels, bad_rate]


def _timing() -> list[FixtureSpec]:
    silent = SignalSpec("silence", 3.0, 16000, 1)
    pad = dict(lead_s=1.5, trail_s=1.5)
    out = [
        _container("wav", 16000, 1, 3.0, id="silence-wav-16000-1ch-3s", kind="silence",
                   signal=silent, tags=("silence",),
                   clauses=("svd-batch/no-content",) + _container_clauses("wav")),
        _raw("s16le", 16000, 1, 3.0, id="silence-raw-s16le-16000-1ch-3s", kind="silence",
             signal=silent, tags=("silence",), clauses=("svd-stream/first-result",)),
        _container("wav", 16000, 1, 6.0, id="speech-padded-wav-16000-1ch-6s", kind="speech",
                   signal=_speech(6.0, 16000, 1, seed=7, **pad),
                   tags=("speech-segments", "leading-silence", "trailing-silence"),
                   clauses=SPEECH_TIMING + ("svd-batch/window-padding",)),
        _raw("s16le", 16000, 1, 6.0, id="speech-padded-raw-s16le-16000-1ch-6s", kind="speech",
             signal=_speech(6.0, 16000, 1, seed=7, **pad),
             tags=("speech-segments", "leading-silence", "trailing-silence"),
             clauses=STREAM_TIMING + ("svd-stream/first-result",)),
        _container("wav", 16000, 1, 8.0, id="speakers-wav-16000-1ch-8s", kind="speech",
                   signal=SignalSpec("speakers", 8.0, 16000, 1),
                   tags=("speech-segments", "speakers"), clauses=SPEECH_TIMING[:3]),
        _container("wav", 16000, 1, LONG_S, id=f"long-wav-16000-1ch-{_dur(LONG_S)}",
                   kind="long", tags=("long", "speech-segments"),
                   clauses=("velma/batch-timeout",)),
    ]  # fmt: skip
    for seconds in SHORT_CLIPS_S:
        short = seconds < MIN_SVD_DURATION_S
        out.append(
            _container(
                "wav",
                16000,
                1,
                seconds,
                id=f"clip-wav-16000-1ch-{_dur(seconds)}",
                kind="clip",
                tags=("short-clip",) + (("too-short",) if short else ()),
                clauses=("svd-batch/too-short",)
                if short
                else ("svd-batch/too-short", "svd-batch/window-padding"),
            )
        )
        out.append(
            _raw(
                "s16le",
                16000,
                1,
                seconds,
                id=f"clip-raw-s16le-16000-1ch-{_dur(seconds)}",
                kind="clip",
                tags=("short-clip",) + (("too-short",) if short else ()),
                clauses=("svd-stream/first-result",),
            )
        )
    for seconds in (SVD_WINDOW_S, SVD_WINDOW_S * 1.5):
        out.append(
            _container(
                "wav",
                16000,
                1,
                seconds,
                kind="speech",
                id=f"window-wav-16000-1ch-{_dur(seconds)}",
                tags=("speech-segments",),
                clauses=("svd-batch/window-padding",),
            )
        )
    return out


def _durations() -> list[FixtureSpec]:
    """The everyday inputs at other true lengths: WAV for STT, SVD and PII, Opus for VFast."""
    wav = _each(("stt-batch", "svd-batch", "pii-batch"), "duration-ms")
    out = []
    for i, seconds in enumerate(OTHER_DURATIONS_S):
        out.append(
            _container(
                "wav",
                16000,
                1,
                seconds,
                subtype="PCM_16",
                kind="speech",
                signal=_speech(seconds, 16000, 1, seed=50 + i),
                tags=("true-duration",),
                clauses=wav,
            )
        )
        out.append(
            _container(
                "opus",
                48000,
                1,
                seconds,
                kind="speech",
                signal=_speech(seconds, 48000, 1, seed=60 + i),
                tags=("true-duration",),
                clauses=("vfast-batch/duration-ms",),
            )
        )
    return out


def _empty_and_metadata() -> list[FixtureSpec]:
    meta = ("svd-batch/metadata-only", "svd-batch/too-short", "svd-batch/empty-file")
    return [
        FixtureSpec("empty-0b-wav", "empty", "empty", "wav", "wav", None, None,
                    tags=("empty",), clauses=EMPTY, note="zero bytes"),
        FixtureSpec("empty-0b-raw", "empty", "empty", "s16le", "raw", None, None,
                    tags=("empty", "raw"), clauses=UNDECODABLE[4:],
                    declared=_declared("s16le", 16000, 1), note="zero bytes, declared s16le"),
        FixtureSpec("header-only-wav-16000-1ch", "header-only", "wav-header", "wav", "wav",
                    16000, 1, tags=("header-only", "metadata-only"), clauses=meta,
                    note="a valid 44-byte PCM WAV header announcing 0 data bytes"),
        FixtureSpec("tags-only-flac-16000-1ch", "header-only", "flac-tags", "flac", "flac",
                    16000, 1, tags=("header-only", "metadata-only"), clauses=meta,
                    note="STREAMINFO (0 samples) and a VORBIS_COMMENT block, no frames"),
        FixtureSpec("tags-only-mp3", "header-only", "id3-tags", "mp3", "mp3", None, None,
                    tags=("metadata-only",), clauses=meta,
                    note="an ID3v2.3 tag (TIT2, TPE1) and no MPEG audio frames"),
    ]  # fmt: skip


def oversize_seconds(rate: int, channels: int) -> int:
    """Whole seconds of 16-bit PCM whose WAV is over both readings of '100 MB'."""
    limit = max(MAX_BATCH_UPLOAD_BYTES, MAX_BATCH_UPLOAD_BYTES_BINARY)
    return math.ceil(limit / (rate * channels * 2)) + 3


def _oversize() -> list[FixtureSpec]:
    rate, ch = 48000, 2
    seconds = oversize_seconds(rate, ch)
    return [
        FixtureSpec(
            f"oversize-wav-{rate}-{ch}ch-{seconds}s",
            "stream",
            "oversize-wav",
            "wav",
            "wav",
            rate,
            ch,
            options=(("seconds", seconds),),
            tags=("oversize",),
            clauses=("velma/batch-max-size",),
            lazy=True,
            duration_override_s=float(seconds),
            note="over 100 MiB; never written by build(); use open_stream() or write_to()",
        )
    ]


@cache
def all_specs() -> tuple[FixtureSpec, ...]:
    specs = (
        _raw_formats()
        + _containers()
        + _damaged()
        + _misnamed()
        + _mismatched()
        + _invalid_params()
        + _timing()
        + _durations()
        + _empty_and_metadata()
        + _oversize()
    )
    seen: set[str] = set()
    for s in specs:
        if s.id in seen:
            raise RuntimeError(f"duplicate fixture id {s.id!r} in the catalog")
        seen.add(s.id)
    return tuple(specs)


@cache
def _by_id() -> dict[str, FixtureSpec]:
    return {s.id: s for s in all_specs()}


def spec(fixture_id: str) -> FixtureSpec:
    try:
        return _by_id()[fixture_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(fixture_id, _by_id(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KeyError(f"no fixture {fixture_id!r} in the catalog{hint}") from None
