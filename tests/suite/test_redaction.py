"""No API key in any file the suite writes, nor in what it prints: a run with recognisable keys, then a scan."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from tests.cli import run_cli
from tests.served import Served, seed_with_keys

KEY_A = "SENTINEL-KEY-ALPHA-7f3a91c0"
KEY_B = "SENTINEL-KEY-BRAVO-2c8e44d1"


def _seed(path: Path) -> Path:
    return seed_with_keys(path, KEY_A, KEY_B)


def _texts(root: Path) -> list[tuple[str, bytes]]:
    """Every file's bytes; tarballs opened, so nothing hides inside an archive."""
    found: list[tuple[str, bytes]] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found.append((str(path), data))
        if path.name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for member in tar.getmembers():
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        found.append((f"{path}!{member.name}", extracted.read()))
    return found


def test_no_key_appears_in_any_file_written_or_line_printed(tmp_path: Path) -> None:
    server = Served("--seed-file", str(_seed(tmp_path / "seed.yaml")))
    try:
        reports = tmp_path / "reports"
        # One key from the environment, one from the command line.
        proc = run_cli(
            "certify",
            "--product",
            str(Path(__file__).resolve().parents[2] / "docs" / "PRODUCT.example.yaml"),
            "--base-url",
            server.url,
            "--api-key",
            KEY_A,
            "--report-dir",
            str(reports),
            env={"CEKURA_OTHER_API_KEY": KEY_B},
        )
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = _texts(reports)
    assert len(files) > 20, "the run wrote its reports"
    assert any(b"[REDACTED]" in data for _, data in files), "credential headers were recorded, redacted"
    for key in (KEY_A, KEY_B):
        leaks = [name for name, data in files if key.encode() in data]
        assert leaks == [], f"{key} written to {leaks}"
        assert key not in proc.stdout and key not in proc.stderr
