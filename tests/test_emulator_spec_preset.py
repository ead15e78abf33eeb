"""Contradictions 15-19 in the emulator, the linked row 15 and ``[alternatives] preset``.

``preset = "specs"`` puts every disputed clause on the side the published spec files take
(``Alternative.spec_literal``), its preferred side where no spec file takes one; entries
naming a clause override it. The emulator answers each chosen side on the wire.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from test_emulator_helpers import INVALID, config, post, running, wav

from harness.contract import disputed, get
from harness.contract import tables as T
from harness.emulator.alternatives import LINKED_ROWS
from harness.emulator.config import ConfigError, load_config_dict
from harness.emulator.kugel.config import DEFAULT_KEYS

ROOT = Path(__file__).resolve().parents[1]
KUGEL_KEY = DEFAULT_KEYS["valid"]
ROW15 = sorted(c.id for c in disputed() if c.contradiction == 15)

# --------------------------------------------------------------------------- catalog


def test_spec_sides_are_marked_where_a_spec_takes_a_side():
    expected = {
        "svd-batch/monthly-quota": "429",  # preferred 403
        "stt-batch/invalid-key": "403",  # preferred 401 (row 17)
        "stt-batch/missing-key": "422",  # row 16, = preferred
        "stt-stream/invalid-key": "4003",  # preferred 4001
        "kugel-http/paging-limits": "422-fastapi",  # row 15
        "kugel/error-code-documented": "9-codes",  # row 19
        "velma/host": T.VELMA_HOST_SPECS,  # row 18
        "velma/auth-header-casing": None,  # no spec file takes a side
        "svd-batch/concurrency-limit": None,
    }
    for cid, side in expected.items():
        assert get(cid).spec_side == side, cid


def test_every_spec_side_cites_a_spec_file():
    for c in disputed():
        for a in c.alternatives:
            if a.spec_literal:
                assert any(s.document.startswith("specs/") for s in a.sources), (c.id, a.key)
        assert sum(a.spec_literal for a in c.alternatives) <= 1, c.id


# --------------------------------------------------------------------------- config


def test_preset_specs_selects_the_spec_side_else_the_preferred_one():
    chosen = load_config_dict({"alternatives": {"preset": "specs"}}).choices.as_dict()
    for c in disputed():
        assert chosen[c.id] == (c.spec_side or c.preferred), c.id
    assert chosen["svd-batch/monthly-quota"] == "429"
    assert chosen["stt-batch/invalid-key"] == "403"
    assert chosen["velma/auth-header-casing"] == "case-insensitive"


def test_named_clauses_override_the_preset():
    alts = {"preset": "specs", "svd-batch/monthly-quota": "403", "stt-stream/invalid-key": "4001"}
    chosen = load_config_dict({"alternatives": alts}).choices.as_dict()
    assert chosen["svd-batch/monthly-quota"] == "403"
    assert chosen["stt-stream/invalid-key"] == "4001"
    assert chosen["stt-batch/invalid-key"] == "403"  # still the preset's


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("spec", "expected one of specs, got 'spec'"), (3, "expected a preset name, got 3")],
)
def test_bad_preset_names_the_field(value, fragment):
    with pytest.raises(ConfigError) as exc:
        load_config_dict({"alternatives": {"preset": value}})
    assert "alternatives.preset" in str(exc.value) and fragment in str(exc.value)


def test_row_15_clauses_take_one_side_together():
    assert 15 in LINKED_ROWS and len(ROW15) >= 5
    one = load_config_dict({"alternatives": {"kugel-http/paging-limits": "422-fastapi"}})
    assert {one.choices.key(cid) for cid in ROW15} == {"422-fastapi"}
    # a named clause of the row also beats the preset for the others
    back = {"preset": "specs", "kugel-http/text-required": "400-envelope"}
    chosen = load_config_dict({"alternatives": back}).choices
    assert {chosen.key(cid) for cid in ROW15} == {"400-envelope"}
    with pytest.raises(ConfigError) as exc:
        load_config_dict(
            {
                "alternatives": {
                    "kugel-http/paging-limits": "422-fastapi",
                    "kugel-http/text-required": "400-envelope",
                }
            }
        )
    assert "kugel-http/paging-limits" in str(exc.value)
    assert "kugel-http/text-required" in str(exc.value)


# --------------------------------------------------------------------------- CLI


def _harness(*args: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_contract_show_marks_the_spec_literal_side():
    out = _harness("contract", "show", "stt-batch/invalid-key")
    assert "spec-literal side: 403" in out
    assert "- 403 [spec-literal]:" in out and "- 401:" in out
    out = _harness("contract", "show", "velma/auth-header-casing")
    assert "spec-literal side: none" in out and "[spec-literal]" not in out
    data = json.loads(_harness("contract", "show", "kugel/error-code-documented", "--json"))
    assert data["spec_literal"] == "9-codes"
    assert {a["key"]: a["spec_literal"] for a in data["alternatives"]} == {
        "7-codes": False,
        "9-codes": True,
    }


def test_contract_list_disputed_shows_rows_15_to_19():
    out = _harness("contract", "list", "--disputed")
    for cid in (
        "stt-batch/missing-key",
        "pii-batch/invalid-key",
        "velma/host",
        "kugel/error-code-documented",
        "kugel-http/paging-limits",
    ):
        assert cid in out


# --------------------------------------------------------------------------- on the wire


@pytest.fixture(scope="module")
def clip() -> bytes:
    return wav(1.0)


def _kugel(e, method: str, path: str, **kw) -> httpx.Response:
    h = {"Authorization": f"Bearer {KUGEL_KEY}"}
    return httpx.request(method, e.base_url + path, headers=h, timeout=10, **kw)


async def _ws_no_voice(e) -> dict:
    url = e.base_url.replace("http://", "ws://") + f"/ws/tts?api_key={KUGEL_KEY}"
    async with websockets.connect(url, open_timeout=5) as ws:
        await ws.send(json.dumps({"text": "Hello."}))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))


def test_default_sides_on_the_wire(clip):
    with running(config()) as e:
        r = post(e, "stt-batch", clip, key=None)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "X-API-Key"]
        assert post(e, "pii-batch", clip, key=INVALID).status_code == 401
        r = _kugel(e, "GET", "/v1/voices?limit=0")
        assert (r.status_code, r.json()["error_code"]) == (400, "VALIDATION_ERROR")
        assert _kugel(e, "POST", "/v1/tts/generate", json={"text": "Hi."}).status_code == 200
        assert asyncio.run(_ws_no_voice(e))["error_code"] == "VALIDATION_ERROR"


def test_other_sides_on_the_wire(clip):
    alts = {
        "stt-batch/missing-key": "401",
        "svd-batch/missing-key": "403",
        "stt-batch/invalid-key": "403",
        "vfast-batch/invalid-key": "502",
        "kugel-http/text-required": "422-fastapi",
        "kugel/error-code-documented": "9-codes",
    }
    with running(config({"alternatives": alts})) as e:
        assert post(e, "stt-batch", clip, key=None).status_code == 401
        assert post(e, "svd-batch", clip, key=None).status_code == 403
        assert post(e, "pii-batch", clip, key=None).status_code == 422  # not named: preferred
        r = post(e, "stt-batch", clip, key=INVALID)
        assert (r.status_code, r.json()["detail"]) == (403, T.DETAIL_FORBIDDEN)
        r = post(e, "vfast-batch", clip, key=INVALID)
        assert (r.status_code, r.json()["detail"]) == (502, T.DETAIL_CANNOT_VALIDATE)
        assert post(e, "pii-batch", clip, key=INVALID).status_code == 401
        # row 15 is linked: naming text-required moves the paging limits too
        r = _kugel(e, "GET", "/v1/voices?limit=0")
        assert r.status_code == 422 and isinstance(r.json()["detail"], list)
        # row 19: the 9-code side names a missing voice_id, on REST and WebSocket
        r = _kugel(e, "POST", "/v1/tts/generate", json={"text": "Hi."})
        assert (r.status_code, r.json()["error_code"], r.json()["code"]) == (
            400,
            "MISSING_VOICE_ID",
            400,
        )
        frame = asyncio.run(_ws_no_voice(e))
        assert (frame["error_code"], frame["code"]) == ("MISSING_VOICE_ID", 400)


def test_preset_specs_on_the_wire(clip):
    with running(config({"alternatives": {"preset": "specs"}})) as e:
        assert post(e, "svd-batch", clip, key=None).status_code == 422
        assert post(e, "stt-batch", clip, key=INVALID).status_code == 403
        r = post(e, "svd-batch", clip, key="demo-quota-exhausted-key")
        assert (r.status_code, r.json()["detail"]) == (429, T.DETAIL_INSUFFICIENT_CREDITS)
        assert _kugel(e, "POST", "/v1/tts/generate", content=b"{").status_code == 422


# --------------------------------------------------------------------------- row 18


@pytest.mark.parametrize("host", [T.VELMA_HOST_PAGES, T.VELMA_HOST_SPECS])
def test_host_is_recorded_never_failed(host):
    from harness.checks import Observation, judge

    v = judge(get("velma/host"), Observation(behaviour=True, side=host), strict=True)
    assert v.outcome == "informational"  # INFO: recorded with the side, even under --strict
    assert v.alternative is not None and v.alternative["chosen"] == host
