"""`gare teams package [--app-id ID] [--host HOST] OUT.zip`: the Teams app package to upload in
Teams (Apps → Manage your apps → Upload an app) or in the Teams admin centre: manifest.json with
the Azure Bot's app id and Gare's host filled in, and the two icons (colour 192×192, outline
32×32), zipped at the top level as Teams expects. No SDK here."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "app_package"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOST = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")


class PackageProblem(ValueError):
    """A missing or malformed app id or host: `what` names it for the error message."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def manifest(app_id: str, host: str) -> dict:
    if not app_id or not GUID.match(app_id):
        raise PackageProblem("app_id")
    host = (host or "").strip().lower().removeprefix("https://").rstrip("/")
    if not HOST.match(host):
        raise PackageProblem("host")
    text = (PACKAGE / "manifest.json").read_text(encoding="utf-8")
    return json.loads(text.replace("{{APP_ID}}", app_id.lower()).replace("{{HOST}}", host))


def build(out: Path, app_id: str, host: str) -> dict:
    """Writes the zip; returns the manifest it holds."""
    data = manifest(app_id, host)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        for icon in ("color.png", "outline.png"):
            archive.write(PACKAGE / icon, icon)
    return data
