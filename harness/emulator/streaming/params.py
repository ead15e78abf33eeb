"""Query parameters of the three streaming surfaces, checked when the connection is made.

Every failure is a :class:`BadParams` carrying the ``error`` text; the session sends
it and closes with 1003. Texts embedding the offending value come from the contract
(``audio_format_error`` and friends); where the documents give no text the wording is
our own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contract import tables as T

from ..alternatives import SVD_MULTICHANNEL, SVD_STREAM_INPUT, Choices, Dispute
from ..formfields import LANGUAGE_RE

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})

# Our own wording (no document gives a text for these).
ERR_CONTAINER_WITH_PARAMS = (
    "sample_rate and num_channels must not be given for a self-describing audio_format"
)
ERR_STEREO_ONLY = "Invalid num_channels={}. Must be 1 or 2"


def bool_error(name: str, value: str) -> str:
    return f"Invalid {name}={value!r}. Expected true or false"


def int_error(name: str, value: str) -> str:
    return f"Invalid {name}={value!r}. Expected an integer >= 0"


class BadParams(ValueError):
    """A query parameter is invalid; ``str(exc)`` is the ``error`` text."""


@dataclass(frozen=True)
class StreamParams:
    surface: str
    audio_format: str | None  # None: auto-detect (STT/PII only)
    sample_rate: int | None
    num_channels: int | None
    values: Mapping[str, Any] = field(default_factory=dict)  # flags, language, padding

    @property
    def raw(self) -> T.RawFormat | None:
        return T.RAW_FORMATS_BY_NAME.get(self.audio_format or "")


_FLAGS: Mapping[str, Mapping[str, Any]] = {
    "stt-stream": {**T.STT_STREAM_FLAG_DEFAULTS, "language": None},
    "pii-stream": {**T.PII_STREAM_FLAG_DEFAULTS, "language": None},
    "svd-stream": {},
}


def _parse_value(name: str, default: Any, text: str) -> Any:
    if isinstance(default, bool):
        low = text.strip().lower()
        if low not in _TRUE and low not in _FALSE:
            raise BadParams(bool_error(name, text))
        return low in _TRUE
    if isinstance(default, int):
        try:
            n = int(text.strip())
        except ValueError:
            raise BadParams(int_error(name, text)) from None
        if n < 0:
            raise BadParams(int_error(name, text))
        return n
    if name == "language":
        if not LANGUAGE_RE.match(text):
            raise BadParams(T.DETAIL_INVALID_LANGUAGE_TEMPLATE.format(text))
        return text
    return text


def _rejects(choices: Choices, dispute: Dispute, surface: str) -> bool:
    """True when the chosen side of ``dispute`` closes the connection (1003)."""
    o = choices.outcome(dispute, surface, "close_code")
    return o is not None and o.close_code == 1003


def parse_params(surface: str, query: Mapping[str, str], choices: Choices) -> StreamParams:
    """Validate the query of a new connection; raises :class:`BadParams`."""
    fmt = query.get("audio_format")
    rate_text = query.get("sample_rate")
    ch_text = query.get("num_channels")
    has_layout = rate_text is not None or ch_text is not None
    if fmt is None:
        if has_layout:
            raise BadParams(T.ERR_PARAMS_NEED_FORMAT)
        if T.AUDIO_FORMAT_REQUIRED[surface]:
            raise BadParams(T.ERR_FORMAT_REQUIRED)
    elif fmt not in T.STREAM_AUDIO_FORMATS[surface]:
        raise BadParams(T.audio_format_error(surface, fmt))
    is_raw = fmt in T.RAW_FORMATS_BY_NAME
    if fmt is not None and not is_raw and _rejects(choices, SVD_STREAM_INPUT, surface):
        raise BadParams(T.ERR_RAW_NEEDS_PARAMS)

    rate = channels = None
    if rate_text is not None:
        try:
            rate = int(rate_text)
        except ValueError:
            raise BadParams(T.sample_rate_error(rate_text)) from None  # type: ignore[arg-type]
        if rate not in T.SAMPLE_RATES:
            raise BadParams(T.sample_rate_error(rate))
    if ch_text is not None:
        try:
            channels = int(ch_text)
        except ValueError:
            raise BadParams(T.num_channels_error(ch_text)) from None  # type: ignore[arg-type]
        if not T.MIN_CHANNELS <= channels <= T.MAX_CHANNELS:
            raise BadParams(T.num_channels_error(channels))
        if channels > 2 and _rejects(choices, SVD_MULTICHANNEL, surface):
            raise BadParams(ERR_STEREO_ONLY.format(channels))
    if is_raw and (rate is None or channels is None):
        raise BadParams(T.ERR_RAW_NEEDS_PARAMS)
    if fmt is not None and not is_raw and has_layout:
        raise BadParams(ERR_CONTAINER_WITH_PARAMS)

    values: dict[str, Any] = {}
    for name, default in _FLAGS[surface].items():
        text = query.get(name)
        values[name] = default if text is None else _parse_value(name, default, text)
    return StreamParams(surface, fmt, rate, channels, values)
