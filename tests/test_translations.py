"""Every word a user reads is in the French catalog, with the same placeholders as the English."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "templates" / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_messages() -> set:
    found = set()
    method_map = [("**.j2", "jinja2")]
    options = {"**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT / "templates"), method_map, options):
        found.add(message)
    return found


def test_every_template_message_has_a_french_translation():
    catalog = {m.id: m.string for m in read_po(PO.open("rb"), locale="fr") if m.id}
    missing = [m for m in template_messages() if not catalog.get(m) or
               (isinstance(catalog[m], tuple) and not all(catalog[m]))]
    assert not missing, f"{len(missing)} messages lack French (see README, Translations): {sorted(map(str, missing))[:10]}"


def test_translations_keep_every_placeholder():
    for m in read_po(PO.open("rb"), locale="fr"):
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for s in strings:
            got = set(PLACEHOLDER.findall(s))
            assert got <= wanted and (got == wanted or "num" in wanted - got), (m.id, s)
