"""Does an upload's content belong to the container family its extension names?

Batch endpoints decide decoding by the file extension (``velma/extension-decides``):
a WAV file named ``.mp3`` is decoded as MP3 and fails. The emulator models that by
checking the leading bytes against the extension before decoding.
"""

from __future__ import annotations

from collections.abc import Callable

_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def _mp3(h: bytes) -> bool:
    return h.startswith(b"ID3") or (
        len(h) > 1 and h[0] == 0xFF and (h[1] & 0xE6) in (0xE2, 0xE4, 0xE6) and (h[1] & 0x06) != 0
    )


def _adts(h: bytes) -> bool:
    return h.startswith(b"ADIF") or (len(h) > 1 and h[0] == 0xFF and (h[1] & 0xF6) == 0xF0)


def _iso_bmff(h: bytes) -> bool:
    return len(h) >= 12 and h[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


_FAMILIES: dict[str, Callable[[bytes], bool]] = {
    "wav": lambda h: h[:4] in (b"RIFF", b"RF64", b"BW64") and h[8:12] == b"WAVE",
    "mp3": _mp3,
    "flac": lambda h: h.startswith(b"fLaC") or (h.startswith(b"ID3") and b"fLaC" in h[:4096]),
    "ogg": lambda h: h.startswith(b"OggS"),
    "opus": lambda h: h.startswith(b"OggS") or h.startswith(b"\x1a\x45\xdf\xa3"),
    "webm": lambda h: h.startswith(b"\x1a\x45\xdf\xa3"),
    "aiff": lambda h: h.startswith(b"FORM") and h[8:12] in (b"AIFF", b"AIFC"),
    "aac": _adts,
    "mp4": _iso_bmff,
    "m4a": _iso_bmff,
    "mov": _iso_bmff,
    "3gp": _iso_bmff,
    "3gpp": _iso_bmff,
    "au": lambda h: h.startswith(b".snd"),
    "amr": lambda h: h.startswith(b"#!AMR"),
    "wma": lambda h: h.startswith(_ASF),
}


def content_matches_extension(head: bytes, extension: str) -> bool:
    """True when ``head`` (the first bytes) looks like the ``extension``'s container.

    Unknown extensions are not judged here (the allowed-extension check comes first).
    """
    check = _FAMILIES.get(extension.lower().lstrip("."))
    return True if check is None else check(head)


def metadata_only(head: bytes, size: int) -> bool:
    """A file that is nothing but an ID3v2 tag (metadata, no audio frames)."""
    if len(head) < 10 or not head.startswith(b"ID3"):
        return False
    tag = 10 + (
        (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
    )
    if head[5] & 0x10:  # footer present
        tag += 10
    return size <= tag
