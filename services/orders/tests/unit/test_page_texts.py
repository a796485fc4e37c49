"""Every text the customer pages show has its German translation (a missing one shows English)."""
import re
from pathlib import Path

from tillkey.orders.entrypoints import checkout_page, order_page
from tillkey.orders.entrypoints.page_texts import TEXTS
from tillkey.platform.web.i18n import SHARED

TEMPLATES = Path(checkout_page.__file__).parent / "templates"
LITERAL = re.compile(r"""_\((["'])(.+?)\1""")


def texts_in_templates() -> set[str]:
    return {m.group(2) for path in TEMPLATES.glob("*.html") for m in LITERAL.finditer(path.read_text())}


def test_every_page_text_has_a_german_translation():
    used = (texts_in_templates() | set(checkout_page.FIELD_MESSAGES.values())
            | set(checkout_page.CODE_MESSAGES.values()) | set(checkout_page.METHOD_NOTES.values())
            | set(order_page.RESEND_PROBLEMS.values()))
    german = {**SHARED["de"], **TEXTS["de"]}
    assert len(used) > 60
    assert sorted(used - german.keys()) == []


def test_placeholders_survive_translation():
    for english, german in TEXTS["de"].items():
        assert set(re.findall(r"{\w+}", english)) == set(re.findall(r"{\w+}", german)), english
