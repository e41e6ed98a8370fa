"""`gare teams package`: the app package Teams installs, from the repository's manifest.json and
icons (colour 192×192, outline 32×32), with the Azure Bot's app id and Gare's host."""
from __future__ import annotations

import json
import struct
import zipfile

from fake_teams import APP_ID
from test_cli import gare


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_package_holds_the_manifest_and_both_icons(tmp_path, db_url):
    out = tmp_path / "gare-teams.zip"
    result = gare("--lang", "en", "teams", "package", "--app-id", APP_ID, "--host", "https://gare.example.com/",
                  str(out), db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "gare.example.com/api/messages" in result.stdout
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["gare.example.com"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert "{{" not in json.dumps(manifest)


def test_a_bad_app_id_or_host_is_refused_politely(tmp_path, db_url):
    bad = gare("--lang", "en", "teams", "package", "--app-id", "not-a-guid", "--host", "gare.example.com",
               str(tmp_path / "x.zip"), db_url=db_url, env_extra={"MicrosoftAppId": ""})
    assert bad.returncode == 2 and "Microsoft App ID" in bad.stderr and "Traceback" not in bad.stderr
    no_host = gare("--lang", "en", "teams", "package", "--app-id", APP_ID, str(tmp_path / "x.zip"), db_url=db_url)
    assert no_host.returncode == 2 and "--host" in no_host.stderr
    assert not (tmp_path / "x.zip").exists()
