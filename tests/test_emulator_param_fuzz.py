"""Fuzzing the path and query values of every emulated REST operation (bounded).

Velma-2 batch, the Platform API and every KugelAudio operation of
:data:`harness.contract.kugel_api.REST_OPERATIONS` get arbitrary (percent-encoded
Unicode) values for each path parameter and for their documented and undocumented
query parameters, including empty ones. No input may give a 5xx (the emulator's
documented fault statuses need a fault switch, which no fuzz input sets) or a body
carrying a Python traceback. Two regressions found with the vendors' OpenAPI files
are pinned explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_emulator_helpers import SURFACES, VALID, fuzz_settings, running

from harness.contract import kugel_api as api
from harness.contract import tables as T
from harness.emulator import RunningEmulator
from harness.emulator.config import default_config
from harness.emulator.kugel.config import DEFAULT_KEYS

FUZZ = fuzz_settings(12)
KUGEL_AUTH = {"Authorization": f"Bearer {DEFAULT_KEYS['valid']}"}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")

# Values a validating backend has to refuse or look up, not crash on: other scripts'
# digits, superscripts, signs, whitespace, huge numbers, separators, nothing at all.
TRICKY = [
    "",
    " ",
    "¹",
    "١٢",
    "５",
    "+1",
    "-1",
    "1_0",
    "1e3",
    "0x10",
    "9" * 5000,
    "null",
    "..",
    "%",
    "\x00",
    "a/b",
    "😀",
    "1 ",
    " 1",
    "true",
    "[]",
]
value = st.one_of(st.sampled_from(TRICKY), st.text(max_size=24))
query_name = st.one_of(
    st.sampled_from(["project_id", "limit", "offset", "search", "x"]),
    st.text(min_size=1, max_size=8),
)


def assert_sane(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url}"
    assert r.status_code < 500, f"{where}: {r.status_code} {r.text[:300]}"
    assert not TRACEBACK.search(r.text), f"{where}: traceback in the body"


def segment(v: str) -> str:
    """``v`` as one percent-encoded path segment."""
    return quote(v, safe="")


@pytest.fixture(scope="module")
def fz() -> Iterator[RunningEmulator]:
    with running() as e:
        yield e


# --------------------------------------------------------------------------- Velma-2 REST


@FUZZ
@given(
    surface=st.sampled_from(SURFACES),
    query=st.lists(st.tuples(query_name, value), max_size=4),
)
def test_velma_batch_query_values(fz, clip, surface, query):
    r = httpx.post(
        fz.base_url + T.VELMA_PATHS[surface],
        params=query,
        headers={"X-API-Key": VALID},
        files={T.UPLOAD_PART: ("a.wav", clip)},
        timeout=20,
    )
    assert_sane(r)


@FUZZ
@given(surface=st.sampled_from(SURFACES), tail=value)
def test_velma_batch_path_values(fz, surface, tail):
    r = httpx.post(
        fz.base_url + T.VELMA_PATHS[surface] + "/" + segment(tail),
        headers={"X-API-Key": VALID},
        timeout=10,
    )
    assert_sane(r)


# --------------------------------------------------------------------------- Platform


def _platform_headers() -> dict[str, str]:
    account = default_config().platform.default_account
    assert account is not None
    h1, h2 = T.PLATFORM_AUTH_HEADERS
    return {h1: account.accountuuid, h2: account.apikey}


@FUZZ
@given(job_id=value, query=st.lists(st.tuples(query_name, value), max_size=3))
def test_platform_job_status_values(fz, job_id, query):
    path = T.PLATFORM_PATHS["job_status"].replace("{job_id}", segment(job_id))
    r = httpx.get(fz.base_url + path, params=query, headers=_platform_headers(), timeout=10)
    assert_sane(r)


@FUZZ
@given(query=st.lists(st.tuples(query_name, value), max_size=4))
def test_platform_submit_query_values(fz, clip, query):
    r = httpx.post(
        fz.base_url + T.PLATFORM_PATHS["submit"],
        params=query,
        headers=_platform_headers(),
        files={T.UPLOAD_PART: ("a.wav", clip)},
        timeout=20,
    )
    assert_sane(r)


# --------------------------------------------------------------------------- KugelAudio


_CLIENT = httpx.Client(timeout=10)  # one connection pool: the fuzz makes many small requests


def _kugel(e: RunningEmulator, method: str, path: str, **kw: Any) -> httpx.Response:
    return _CLIENT.request(method, e.base_url + path, headers=KUGEL_AUTH, **kw)


def _resources(e: RunningEmulator, clip: bytes) -> dict[str, str]:
    """A fresh voice with a reference, a dictionary with an entry: valid path values."""
    voice = _kugel(e, "POST", "/v1/voices", json={"name": "fuzz"})
    assert voice.status_code == 201, voice.text
    vid = voice.json()["id"]
    ref = _kugel(
        e,
        "POST",
        f"/v1/voices/{vid}/references",
        files={"file": ("r.wav", clip)},
        data={"reference_text": "hi"},
    )
    assert ref.status_code == 201, ref.text
    d = _kugel(e, "POST", "/v1/dictionaries", json={"name": "fuzz"})
    assert d.status_code == 201, d.text
    did = d.json()["id"]
    entry = _kugel(
        e, "POST", f"/v1/dictionaries/{did}/entries", json={"word": "a", "replacement": "b"}
    )
    assert entry.status_code == 201, entry.text
    return {
        "voice_id": str(vid),
        "ref_id": str(ref.json()["id"]),
        "dict_id": str(did),
        "entry_id": str(entry.json()["id"]),
    }


# A valid body per operation, so a request gets past body validation to its path and query.
BODIES: dict[str, dict[str, Any]] = {
    "tts-generate": {"json": {"text": "hello"}},
    "voice-create": {"json": {"name": "v"}},
    "voice-update": {"json": {}},
    "dictionary-create": {"json": {"name": "d"}},
    "dictionary-update": {"json": {}},
    "dictionary-entry-add": {"json": {"word": "w", "replacement": "r"}},
    "dictionary-entries-replace": {"json": {"entries": []}},
    "dictionary-entry-update": {"json": {}},
}
OPS = [op.key for op in api.REST_OPERATIONS]


def _call(
    e: RunningEmulator,
    clip: bytes,
    key: str,
    path_values: dict[str, str],
    query: list[tuple[str, str]],
) -> httpx.Response:
    op = api.operation(key)
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", segment(path_values[name]))
    kw = dict(BODIES.get(key, {}))
    if key == "voice-reference-upload":
        kw = {"files": {"file": ("r.wav", clip)}}
    return _kugel(e, op.method, path, params=query, **kw)


def test_every_emulated_rest_route_is_fuzzed():
    """Every HTTP route of the app (but the emulator's own controls) is one fuzzed here."""
    from starlette.routing import Route

    from harness.emulator import create_app

    fuzzed = {(p, "POST") for p in (T.VELMA_PATHS[s] for s in SURFACES)}
    fuzzed |= {(T.PLATFORM_PATHS["submit"], "POST"), (T.PLATFORM_PATHS["job_status"], "GET")}
    fuzzed |= {(op.path, op.method) for op in api.REST_OPERATIONS}
    served = {
        (r.path, m)
        for r in create_app().routes
        if isinstance(r, Route) and not r.path.startswith("/_emulator")
        for m in (r.methods or ()) - {"HEAD"}
    }
    assert served and served <= fuzzed, sorted(served - fuzzed)


@pytest.mark.parametrize("key", [op.key for op in api.REST_OPERATIONS if op.path_params])
def test_kugel_path_values(fz, clip, key):
    op = api.operation(key)

    @FUZZ
    @given(name=st.sampled_from(op.path_params), v=value)
    def run(name: str, v: str) -> None:
        ids = _resources(fz, clip)
        assert_sane(_call(fz, clip, key, {**ids, name: v}, []))

    run()


@pytest.mark.parametrize("key", OPS)
def test_kugel_query_values(fz, clip, key):
    op = api.operation(key)
    names = (
        st.one_of(st.sampled_from(op.query_params), query_name) if op.query_params else query_name
    )

    @FUZZ
    @given(query=st.lists(st.tuples(names, value), max_size=3))
    def run(query: list[tuple[str, str]]) -> None:
        ids = _resources(fz, clip) if op.path_params else {}
        assert_sane(_call(fz, clip, key, ids, query))

    run()


# --------------------------------------------------------------------------- regressions


def test_a_non_ascii_digit_voice_id_is_not_found_not_500(fz):
    r = _kugel(fz, "GET", "/v1/voices/%C2%B9")  # "¹": isdigit() but not int()
    assert r.status_code == 404, r.text
    assert r.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("ref", ["%C2%B9", "%D9%A1", "%EF%BC%95", "1_0", "%201"])
def test_a_non_ascii_integer_path_value_is_a_validation_error(fz, clip, ref):
    vid = _resources(fz, clip)["voice_id"]
    r = _kugel(fz, "DELETE", f"/v1/voices/{vid}/references/{ref}")
    assert r.status_code in (400, 422), r.text


@pytest.mark.parametrize(
    ("path", "name"),
    [("/v1/dictionaries", "project_id"), ("/v1/voices", "limit"), ("/v1/voices", "offset")],
)
def test_an_empty_query_value_is_a_validation_error_not_absent(fz, path, name):
    r = _kugel(fz, "GET", f"{path}?{name}=")
    assert r.status_code in (400, 422), r.text
    body = r.json()
    if r.status_code == 400:
        assert body["error_code"] == "VALIDATION_ERROR"
    else:
        assert isinstance(body["detail"], list)
    absent = _kugel(fz, "GET", path)
    assert absent.status_code == 200, absent.text
