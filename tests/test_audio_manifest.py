"""The built fixture set: coverage, determinism, caching, the lazy oversize stream."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tracemalloc
from pathlib import Path

import pytest

import harness.audio.catalog as catalog_mod
from harness.audio import (
    EDGE_CASE_TAGS,
    REFERENCED_CLAUSES,
    FixtureEntry,
    build,
    default_fixture_dir,
    load_manifest,
    open_stream,
    write_to,
)
from harness.audio.catalog import SHORT_CLIPS_S
from harness.audio.containers import CONTAINER_NAMES
from harness.contract.tables import (
    MAX_BATCH_UPLOAD_BYTES,
    MAX_BATCH_UPLOAD_BYTES_BINARY,
    MAX_CHANNELS,
    MIN_SVD_DURATION_S,
    RAW_FORMAT_NAMES,
    SAMPLE_RATES,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("fixtures-a"))


def test_first_build_builds_everything(built) -> None:
    assert built.stats is not None
    assert built.stats.cached == [] and len(built.stats.built) == len(built)
    assert (built.root / "manifest.json").is_file()


def test_manifest_round_trips(built) -> None:
    loaded = load_manifest(built.root)
    assert [e.to_json() for e in loaded] == [e.to_json() for e in built]
    assert loaded.stats is None
    for e in loaded:
        assert FixtureEntry.from_json(json.loads(json.dumps(e.to_json()))) == e


def test_files_match_manifest(built) -> None:
    for e in built:
        if e.path is None:
            continue
        data = (built.root / e.path).read_bytes()
        assert len(data) == e.bytes, e.id
        assert hashlib.sha256(data).hexdigest() == e.sha256, e.id


def test_coverage(built) -> None:
    raw = [e for e in built if e.kind == "raw"]
    assert {e.audio_format for e in raw} == set(RAW_FORMAT_NAMES)
    assert {e.sample_rate for e in raw} >= set(SAMPLE_RATES)
    assert {e.num_channels for e in raw} >= set(range(1, MAX_CHANNELS + 1))
    containers = {e.audio_format for e in built if e.kind == "container"}
    assert containers >= set(CONTAINER_NAMES)
    tags = {t for e in built for t in e.tags}
    assert set(EDGE_CASE_TAGS) <= tags, set(EDGE_CASE_TAGS) - tags
    clips = {e.duration_s for e in built.with_tag("short-clip")}
    assert clips >= set(SHORT_CLIPS_S)
    assert {e.duration_s for e in built.with_tag("too-short")} == {
        s for s in SHORT_CLIPS_S if s < MIN_SVD_DURATION_S
    }
    assert max(e.duration_s for e in built.with_tag("long")) > 61.0
    declared = {e.declared["num_channels"] for e in built.with_tag("invalid-channels")}
    assert declared == {0, 9}
    assert {e.declared["sample_rate"] for e in built.with_tag("undocumented-rate")} == {12345}


def test_clauses_only_from_the_referenced_list_and_all_used(built) -> None:
    used = {c for e in built for c in e.clauses}
    assert used <= set(REFERENCED_CLAUSES), used - set(REFERENCED_CLAUSES)
    assert set(REFERENCED_CLAUSES) <= used, set(REFERENCED_CLAUSES) - used
    assert len(REFERENCED_CLAUSES) == len(set(REFERENCED_CLAUSES))


def test_entry_fields(built) -> None:
    id_ok = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
    for e in built:
        assert id_ok.match(e.id), e.id
        assert e.duration_s >= 0 and e.bytes >= 0 and len(e.sha256) == 64
        if e.kind in ("empty", "header-only"):
            assert e.duration_s == 0
        if "mismatch" in e.tags or e.kind == "invalid-params":
            assert e.declared, e.id
        if e.kind in ("mismatch",):
            assert any(e.declared.get(k) != getattr(e, k) for k in e.declared), e.id
    empty = built.get("empty-0b-wav")
    assert empty.bytes == 0 and empty.duration_s == 0
    assert built.get("raw-s16le-16000-1ch-partial-frame").bytes % 2 == 1


def test_segments_recorded(built) -> None:
    e = built.get("speech-padded-wav-16000-1ch-6s")
    assert e.segments and e.segments[0]["start_s"] == pytest.approx(1.5)
    assert e.segments[-1]["end_s"] <= 4.5 + 1e-9
    assert built.get("silence-wav-16000-1ch-3s").segments == ()
    speakers = {s["speaker"] for s in built.get("speakers-wav-16000-1ch-8s").segments}
    assert speakers == {"A", "B"}


def test_filters_and_get(built) -> None:
    assert all("corrupt" in e.tags for e in built.filter(tag="corrupt"))
    assert built.for_clause("velma/batch-max-size")[0].path is None
    assert built.filter(kind="raw", audio_format="mulaw")
    with pytest.raises(KeyError, match="did you mean"):
        built.get("raw-s16le-16000-1ch-1")


def test_manifest_is_deterministic(built, tmp_path) -> None:
    again = build(tmp_path / "b")
    assert [(e.id, e.sha256) for e in again] == [(e.id, e.sha256) for e in built]
    assert (tmp_path / "b" / "manifest.json").read_bytes() == (
        built.root / "manifest.json"
    ).read_bytes()


def test_warm_build_rebuilds_nothing_and_one_change_rebuilds_one(tmp_path, monkeypatch) -> None:
    out = tmp_path / "c"
    build(out)
    warm = build(out)
    assert warm.stats.built == [] and len(warm.stats.cached) == len(warm)

    m = load_manifest(out)
    victim = m.get("flac-16000-1ch-2s")
    path = out / victim.path
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")  # same size, different bytes
    touched = m.get("wav-pcm16-16000-1ch-2s")
    os.utime(out / touched.path, ns=(1, 1))  # moved mtime, same bytes: re-hash, keep
    (out / m.get("raw-u8-96000-2ch-1s").path).unlink()

    again = build(out)
    assert sorted(again.stats.built) == sorted([victim.id, "raw-u8-96000-2ch-1s"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == victim.sha256

    # a spec change (here: a new tag) rebuilds only that fixture
    specs = catalog_mod.all_specs()
    changed = tuple(
        s if s.id != "mp3-44100-2ch-2s" else type(s)(**{**s.__dict__, "tags": s.tags + ("x",)})
        for s in specs
    )
    monkeypatch.setattr(catalog_mod, "all_specs", lambda: changed)
    third = build(out)
    assert third.stats.built == ["mp3-44100-2ch-2s"]
    assert "x" in third.get("mp3-44100-2ch-2s").tags

    forced = build(out, force=True)
    assert len(forced.stats.built) == len(forced)


def test_oversize_stream_is_lazy_and_chunked(built) -> None:
    (entry,) = built.with_tag("oversize")
    assert entry.path is None and entry.kind == "stream"
    assert entry.bytes > MAX_BATCH_UPLOAD_BYTES_BINARY > MAX_BATCH_UPLOAD_BYTES
    assert not any(p.stat().st_size > 50 * 2**20 for p in built.root.rglob("*") if p.is_file())

    tracemalloc.start()
    h, total, count, biggest, first = hashlib.sha256(), 0, 0, 0, b""
    for chunk in open_stream(entry.id):
        first = first or chunk
        h.update(chunk)
        total += len(chunk)
        count += 1
        biggest = max(biggest, len(chunk))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert total == entry.bytes and h.hexdigest() == entry.sha256
    assert count > 100 and biggest <= 256 * 1024
    assert peak < 16 * 2**20, f"streaming held {peak / 2**20:.1f} MiB"
    assert first[:4] == b"RIFF" and first[8:12] == b"WAVE"
    assert int.from_bytes(first[40:44], "little") == total - 44


def test_write_to_and_iter_bytes(built, tmp_path) -> None:
    e = built.get("opus-48000-1ch-2s")
    size, digest = write_to(e.id, tmp_path / "x.opus")
    assert (size, digest) == (e.bytes, e.sha256)
    assert b"".join(built.iter_bytes(e.id)) == (tmp_path / "x.opus").read_bytes()


def test_default_dir_and_env_override(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("HARNESS_FIXTURE_DIR", raising=False)
    assert default_fixture_dir() == REPO / "fixtures" / "build"
    monkeypatch.setenv("HARNESS_FIXTURE_DIR", str(tmp_path))
    assert default_fixture_dir() == tmp_path


def test_missing_manifest_message(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="harness fixtures build"):
        load_manifest(tmp_path)
