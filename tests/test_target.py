"""Target profiles: ${ENV} references, .env files, and errors that name the field."""

from __future__ import annotations

import pytest

from harness.target import ProfileError, load_profile, profile_from_dict, read_dotenv


def _write(tmp_path, text: str):
    p = tmp_path / "p.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_env_references_and_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text('# c\nexport MOD_KEY="from-dotenv-1234"\nOTHER=x\n')
    monkeypatch.delenv("MOD_KEY", raising=False)
    p = _write(
        tmp_path, '[velma]\nbase_url = "https://h.example/"\n[velma.keys]\nvalid = "${MOD_KEY}"\n'
    )
    prof = load_profile(p)
    assert prof.velma.key("valid").value == "from-dotenv-1234"
    assert prof.velma.key("valid").env == "MOD_KEY"
    assert prof.velma.ws_base_url == "wss://h.example"
    assert prof.is_live and "from-dotenv" not in repr(prof.velma.key("valid"))
    monkeypatch.setenv("MOD_KEY", "from-env-5678")
    assert load_profile(p).velma.key("valid").value == "from-env-5678"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('kind = "prod"\n[velma]\nbase_url = "http://h"\n', "kind: expected one of emulator, live"),
        ('[velma]\nbase_url = "ftp://h"\n', "velma.base_url: expected a URL"),
        (
            '[velma]\nbase_url = "http://h"\n[velma.keys]\nadmin = "x"\n',
            "velma.keys.admin: unknown field",
        ),
        (
            '[velma]\nbase_url = "http://h"\n[velma.keys]\nvalid = "${NOPE_NOT_SET}"\n',
            "NOPE_NOT_SET is not set",
        ),
        (
            '[velma]\nbase_url = "http://h"\n[run]\ntimeout_s = -1\n',
            "run.timeout_s: expected a number",
        ),
        (
            '[velma]\nbase_url = "http://h"\n[expect]\n"svd-batch/too-short" = "x"\n',
            "the documents agree",
        ),
        (
            '[velma]\nbase_url = "http://h"\n[expect]\n"svd-batch/invalid-key" = "999"\n',
            "expected one of 401, 403",
        ),
        ('name = "x"\n', "expected at least one of velma.base_url"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_profiles_name_the_field(tmp_path, monkeypatch, text, words):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(ProfileError, match=None) as exc:
        load_profile(_write(tmp_path, text))
    assert words in str(exc.value)


def test_expectations_and_limits():
    prof = profile_from_dict(
        {
            "velma": {
                "base_url": "http://127.0.0.1:1",
                "limits": {"concurrency": {"stt-batch": 3}},
            },
            "expect": {"svd-batch/invalid-key": "401"},
        },
        env={},
    )
    assert prof.expect == {"svd-batch/invalid-key": "401"}
    assert prof.velma.limits["concurrency"]["stt-batch"] == 3


def test_dotenv_rejects_garbage(tmp_path):
    (tmp_path / ".env").write_text("this is not a pair\n")
    with pytest.raises(ProfileError, match="expected NAME=VALUE"):
        read_dotenv(tmp_path / ".env")
