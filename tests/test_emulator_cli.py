"""`harness emulate`: refuses public hosts, bad configs name the field; the written profile."""

from __future__ import annotations

import tomllib

from harness.cli import main
from harness.emulator.config import default_config
from harness.emulator.profile import profile_toml


def test_non_loopback_host_needs_public(capsys):
    assert main(["emulate", "--host", "0.0.0.0"]) == 2
    assert "--public" in capsys.readouterr().err


def test_bad_config_is_a_usage_error_naming_the_field(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[processing]\nspeed = 'fast'\n")
    assert main(["emulate", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "processing.speed" in err and "Traceback" not in err


def test_profile_has_urls_and_a_key_per_role():
    cfg = default_config()
    data = tomllib.loads(profile_toml("http://127.0.0.1:9", cfg, "tok"))
    assert data["velma"]["base_url"] == "http://127.0.0.1:9"
    assert data["velma"]["ws_base_url"] == "ws://127.0.0.1:9"
    assert set(data["velma"]["keys"]) == {"valid", "no_model_access", "quota_exhausted", "invalid"}
    assert data["velma"]["keys"]["invalid"] not in cfg.keys
    assert data["emulator"]["control_token"] == "tok"


def test_profile_states_the_concurrency_limits_of_the_valid_keys_org(tmp_path):
    from harness.contract.tables import VELMA_PATHS
    from harness.emulator.config import load_config_dict
    from harness.target import load_profile

    cfg = load_config_dict(
        {
            "orgs": {
                "other": {"concurrency": 9, "keys": [{"key": "k-other"}]},
                "main": {
                    "concurrency": 3,
                    "concurrency_per_model": {"svd-stream": 1, "stt-batch": 0},
                    "keys": [{"key": "k-valid", "role": "valid"}],
                },
            }
        }
    )
    text = profile_toml("http://127.0.0.1:9", cfg, "tok")
    path = tmp_path / "p.toml"
    path.write_text(text)
    limits = load_profile(path).velma.limits["concurrency"]
    expected = {s: 3 for s in VELMA_PATHS} | {"svd-stream": 1, "stt-batch": 0}
    assert limits == expected
    assert load_profile(path).kugel.limits["max_characters"] == cfg.kugel.max_chars


def test_profile_without_a_valid_key_states_no_concurrency_limits():
    from harness.emulator.config import load_config_dict

    cfg = load_config_dict({"orgs": {"o": {"keys": [{"key": "k", "role": "no_model_access"}]}}})
    data = tomllib.loads(profile_toml("http://127.0.0.1:9", cfg, "tok"))
    assert "limits" not in data["velma"]


def test_emulate_serves_and_writes_the_profile(tmp_path):
    import subprocess
    import sys
    import time

    import httpx

    profile = tmp_path / "target.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "emulate", "--write-profile", str(profile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not profile.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no profile written"
            time.sleep(0.05)
        data = tomllib.loads(profile.read_text())
        from harness.contract.tables import VELMA_PATHS
        from harness.target import load_profile

        loaded = load_profile(profile)  # the written profile is one `harness run` accepts
        assert loaded.kind == "emulator" and loaded.velma.key("valid") is not None
        assert loaded.platform.key("apikey") is not None and loaded.kugel.key("valid") is not None
        demo = default_config()
        assert loaded.velma.limits["concurrency"] == {
            s: demo.orgs["demo"].limit_for(s) for s in VELMA_PATHS
        }
        url = data["velma"]["base_url"] + VELMA_PATHS["stt-batch"]
        while True:
            try:
                r = httpx.post(
                    url,
                    headers={"X-API-Key": data["velma"]["keys"]["invalid"]},
                    files={"upload_file": ("a.wav", b"x")},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.05)
        assert r.status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "demo-valid-key" in out and "no_model_access" in out


def test_a_port_in_use_is_a_usage_error(capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["emulate", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "Traceback" not in err
