"""Build the catalog into a directory, with a manifest; cache what is already there.

``manifest.json`` is deterministic (same catalog and encoders, same bytes). File
sizes and mtimes used for the warm-build shortcut live in a separate
``.build-cache.json`` so that the manifest itself never carries clock values.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from harness.records import Record

from . import catalog, recipes
from .paths import default_fixture_dir
from .signals import num_frames
from .specs import GENERATOR_VERSION, FixtureSpec

MANIFEST_NAME = "manifest.json"
CACHE_NAME = ".build-cache.json"
SCHEMA = 1
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class FixtureEntry(Record):
    """One built fixture, as recorded in ``manifest.json``.

    ``sample_rate``/``num_channels``/``audio_format`` describe the bytes as they
    really are; ``declared`` (mismatch and invalid-parameter fixtures) is what a
    sender claims instead. ``duration_s`` is the true audio duration (0 when there
    are no samples); for truncated/corrupt fixtures it is the duration of the intact
    file they were cut from. ``segments`` lists speech on/off times (empty list:
    no speech at all; None: not a speech signal).
    """

    id: str
    path: str | None
    kind: str
    audio_format: str | None
    sample_rate: int | None
    num_channels: int | None
    duration_s: float
    frames: int
    bytes: int
    sha256: str
    tags: tuple[str, ...]
    clauses: tuple[str, ...]
    declared: dict[str, object] | None
    segments: tuple[dict[str, object], ...] | None
    spec_hash: str
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return self.to_dict()

    @classmethod
    def from_json(cls, doc: dict) -> FixtureEntry:
        segs = doc.get("segments")
        return cls(
            id=doc["id"],
            path=doc.get("path"),
            kind=doc["kind"],
            audio_format=doc.get("audio_format"),
            sample_rate=doc.get("sample_rate"),
            num_channels=doc.get("num_channels"),
            duration_s=float(doc["duration_s"]),
            frames=int(doc.get("frames", 0)),
            bytes=int(doc["bytes"]),
            sha256=doc["sha256"],
            tags=tuple(doc.get("tags", ())),
            clauses=tuple(doc.get("clauses", ())),
            declared=doc.get("declared"),
            segments=None if segs is None else tuple(segs),
            spec_hash=doc["spec_hash"],
            note=doc.get("note", ""),
        )

    @property
    def lazy(self) -> bool:
        return self.path is None


@dataclass
class BuildStats:
    built: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"built {len(self.built)}, cached {len(self.cached)}, "
            f"removed {len(self.removed)} in {self.seconds:.2f} s"
        )


@dataclass
class Manifest:
    root: Path
    generator_version: str
    entries: tuple[FixtureEntry, ...]
    encoders: dict[str, str] = field(default_factory=dict)
    stats: BuildStats | None = None  # set by build(); None after load_manifest()

    def __post_init__(self) -> None:
        self._index = {e.id: e for e in self.entries}

    def __iter__(self) -> Iterator[FixtureEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def ids(self) -> tuple[str, ...]:
        return tuple(self._index)

    def get(self, fixture_id: str) -> FixtureEntry:
        try:
            return self._index[fixture_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(fixture_id, self._index, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise KeyError(f"no fixture {fixture_id!r} in {self.root}{hint}") from None

    def filter(
        self,
        *,
        tag: str | None = None,
        clause: str | None = None,
        kind: str | None = None,
        audio_format: str | None = None,
    ) -> list[FixtureEntry]:
        """Entries matching every criterion given."""
        return [
            e
            for e in self.entries
            if (tag is None or tag in e.tags)
            and (clause is None or clause in e.clauses)
            and (kind is None or e.kind == kind)
            and (audio_format is None or e.audio_format == audio_format)
        ]

    def with_tag(self, tag: str) -> list[FixtureEntry]:
        return self.filter(tag=tag)

    def for_clause(self, clause_id: str) -> list[FixtureEntry]:
        return self.filter(clause=clause_id)

    def path_of(self, fixture_id: str) -> Path | None:
        """Absolute path of a written fixture; None for a lazy (streamed) one."""
        entry = self.get(fixture_id)
        return None if entry.path is None else self.root / entry.path

    def iter_bytes(
        self, fixture_id: str, chunk_bytes: int = recipes.CHUNK_BYTES
    ) -> Iterator[bytes]:
        """A fixture's bytes in chunks, from disk or (lazy fixtures) generated."""
        path = self.path_of(fixture_id)
        if path is None:
            yield from open_stream(fixture_id, chunk_bytes)
            return
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_bytes):
                yield chunk

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "generator_version": self.generator_version,
            "encoders": dict(sorted(self.encoders.items())),
            "fixtures": [e.to_json() for e in self.entries],
        }


# --------------------------------------------------------------------------
# Streaming helpers
# --------------------------------------------------------------------------


def open_stream(fixture_id: str, chunk_bytes: int = recipes.CHUNK_BYTES) -> Iterator[bytes]:
    """Generate a catalog fixture's bytes in bounded chunks (never whole, for lazy ones)."""
    return recipes.iter_chunks(catalog.spec(fixture_id), chunk_bytes)


def _hash_chunks(chunks: Iterable[bytes]) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
    return size, h.hexdigest()


def _write_atomic(path: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            size, digest = _hash_chunks(_tee(chunks, fh))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size, digest


def _tee(chunks: Iterable[bytes], fh) -> Iterator[bytes]:
    for chunk in chunks:
        fh.write(chunk)
        yield chunk


def write_to(fixture_id: str, path: str | os.PathLike[str]) -> tuple[int, str]:
    """Write a fixture (lazy ones included) to ``path`` by streaming; return (bytes, sha256)."""
    return _write_atomic(Path(path), open_stream(fixture_id))


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return _hash_chunks(iter(lambda: fh.read(_HASH_CHUNK), b""))[1]


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def _encoders() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"libsndfile": sf.__libsndfile_version__, "soundfile": sf.__version__}
    with contextlib.suppress(PackageNotFoundError):
        out["av"] = version("av")
    return out


def _frames_of(spec: FixtureSpec) -> int:
    if spec.duration_override_s is not None:
        return int(round(spec.duration_override_s * (spec.sample_rate or 0)))
    if spec.signal is None:
        return 0
    return num_frames(spec.signal.duration_s, spec.signal.sample_rate)


def _entry(spec: FixtureSpec, size: int, digest: str, segments) -> FixtureEntry:
    frames = _frames_of(spec)
    rate = spec.signal.sample_rate if spec.signal is not None else spec.sample_rate
    return FixtureEntry(
        id=spec.id,
        path=spec.path,
        kind=spec.kind,
        audio_format=spec.audio_format,
        sample_rate=spec.sample_rate,
        num_channels=spec.num_channels,
        duration_s=frames / rate if frames and rate else 0.0,
        frames=frames,
        bytes=size,
        sha256=digest,
        tags=tuple(sorted(set(spec.tags))),
        clauses=tuple(sorted(set(spec.clauses))),
        declared=spec.declared_dict(),
        segments=None if segments is None else tuple(s.to_json() for s in segments),
        spec_hash=spec.spec_hash(),
        note=spec.note,
    )


def _build_one(out: Path, spec: FixtureSpec) -> FixtureEntry:
    if spec.lazy:
        size, digest = _hash_chunks(recipes.iter_chunks(spec))
        return _entry(spec, size, digest, None)
    rendered = recipes.render(spec)
    assert spec.path is not None
    size, digest = _write_atomic(out / spec.path, [rendered.data])
    return _entry(spec, size, digest, rendered.segments)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _stat_key(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _unchanged(out: Path, old: FixtureEntry, cached_stat: list[int] | None) -> bool:
    """True if ``old``'s file is still exactly what the manifest says."""
    if old.path is None:
        return True  # lazy: nothing on disk; the spec hash alone decides
    now = _stat_key(out / old.path)
    if now is None or now[0] != old.bytes:
        return False
    if cached_stat == now:
        return True  # same size and mtime as when we last hashed it: trust it
    return sha256_file(out / old.path) == old.sha256


def build(out_dir: str | os.PathLike[str] | None = None, force: bool = False) -> Manifest:
    """Build every catalog fixture into ``out_dir`` and write ``manifest.json``.

    A fixture whose spec hash is unchanged and whose file still matches the recorded
    sha256 (checked by size+mtime, re-hashed only when those moved) is not rebuilt,
    unless ``force``. Lazy fixtures are never written; their size and sha256 are
    computed by streaming. Returns the manifest with ``stats`` (built/cached/removed).
    """
    start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else default_fixture_dir()
    out.mkdir(parents=True, exist_ok=True)
    prev_doc = _read_json(out / MANIFEST_NAME) or {}
    prev = {d["id"]: FixtureEntry.from_json(d) for d in prev_doc.get("fixtures", ())}
    if prev_doc.get("generator_version") != GENERATOR_VERSION:
        prev = {}
    stat_cache: dict[str, list[int]] = (_read_json(out / CACHE_NAME) or {}).get("files", {})

    stats = BuildStats()
    entries: list[FixtureEntry] = []
    new_stats: dict[str, list[int]] = {}
    for spec in catalog.all_specs():
        old = prev.get(spec.id)
        fresh = (
            not force
            and old is not None
            and old.spec_hash == spec.spec_hash()
            and _unchanged(out, old, stat_cache.get(spec.id))
        )
        if fresh:
            assert old is not None
            entry = old
            stats.cached.append(spec.id)
        else:
            entry = _build_one(out, spec)
            stats.built.append(spec.id)
        entries.append(entry)
        if entry.path is not None:
            key = _stat_key(out / entry.path)
            if key is not None:
                new_stats[entry.id] = key

    current_paths = {e.path for e in entries if e.path}
    for old in prev.values():
        if old.path and old.path not in current_paths and (out / old.path).exists():
            (out / old.path).unlink()
            stats.removed.append(old.id)

    encoders = prev_doc.get("encoders") if not stats.built else None
    manifest = Manifest(out, GENERATOR_VERSION, tuple(entries), encoders or _encoders())
    text = json.dumps(manifest.to_json(), indent=1, sort_keys=False) + "\n"
    if (out / MANIFEST_NAME).exists() is False or (out / MANIFEST_NAME).read_text() != text:
        _write_atomic(out / MANIFEST_NAME, [text.encode()])
    cache_doc = {"generator_version": GENERATOR_VERSION, "files": new_stats}
    _write_atomic(out / CACHE_NAME, [json.dumps(cache_doc, sort_keys=True).encode()])
    stats.seconds = time.perf_counter() - start
    manifest.stats = stats
    return manifest


def load_manifest(out_dir: str | os.PathLike[str] | None = None) -> Manifest:
    """Read ``manifest.json`` from ``out_dir`` (default: the fixture directory)."""
    out = Path(out_dir) if out_dir is not None else default_fixture_dir()
    path = out / MANIFEST_NAME
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no {MANIFEST_NAME} in {out}; build the fixtures first (harness fixtures build)"
        ) from None
    entries = tuple(FixtureEntry.from_json(d) for d in doc.get("fixtures", ()))
    return Manifest(out, doc.get("generator_version", "?"), entries, doc.get("encoders", {}))
