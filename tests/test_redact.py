"""Keys never survive redaction, whatever shape they come in."""

from __future__ import annotations

from harness.redact import MASK, Redactor

KEY = "sk-live-0123456789abcdef"


def test_known_secret_is_replaced_by_its_reference_everywhere():
    r = Redactor()
    r.add(KEY, "${MODULATE_API_KEY}")
    data = {"url": f"wss://h/x?api_key={KEY}&a=1", "note": [f"key {KEY} used"], KEY: 1}
    out = r.data(data)
    assert KEY not in repr(out)
    assert out["url"] == "wss://h/x?api_key=${MODULATE_API_KEY}&a=1"
    assert out["note"] == ["key ${MODULATE_API_KEY} used"]


def test_unknown_credentials_are_masked_by_position():
    r = Redactor()
    text = 'curl -H "X-API-Key: abc123secret" -H "Authorization: Bearer tok999" "https://h?api_key=zzz"'
    out = r.text(text)
    for secret in ("abc123secret", "tok999", "zzz"):
        assert secret not in out
    assert "X-API-Key: ***" in out and "Bearer ***" in out and "api_key=***" in out


def test_headers_mask_credential_names_case_insensitively():
    r = Redactor()
    out = r.headers({"x-api-key": "v", "APIKEY": "w", "accountuuid": "u", "Content-Type": "a/b"})
    assert out == {"x-api-key": MASK, "APIKEY": MASK, "accountuuid": MASK, "Content-Type": "a/b"}


def test_short_values_are_not_registered():
    r = Redactor(["ab"])
    assert r.known == 0 and r.text("abc") == "abc"
