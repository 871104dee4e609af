"""engine/redact.py: credentials kept out of headers, curl lines and free text."""

from __future__ import annotations

from conformance.engine import redact


def test_redaction_covers_credential_headers_curl_and_free_text() -> None:
    assert redact.headers({"X-CEKURA-API-KEY": "k", "Authorization": "t", "Accept": "a"}) == {
        "X-CEKURA-API-KEY": redact.REDACTED,
        "Authorization": redact.REDACTED,
        "Accept": "a",
    }
    line = redact.curl("patch", "http://t/w/1/", {"X-CEKURA-API-KEY": "sekrit-key"}, b'{"a": 1}')
    assert "sekrit-key" not in line and redact.REDACTED in line and "--data-raw" in line
    scrub = redact.Scrubber(["sekrit-key"])
    assert scrub("error with sekrit-key inside") == f"error with {redact.REDACTED} inside"
