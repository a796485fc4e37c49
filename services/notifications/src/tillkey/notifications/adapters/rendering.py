"""Jinja2 templates packaged with the service: `templates/<language>/<name>.txt` and `.html`.

The plain-text template also sets the subject (`{% set subject %}…{% endset %}`), so a
translator edits one file per language for the words and one for the markup. HTML is
autoescaped: product names, merchant names and license keys come from outside.
"""
from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, TemplateNotFound, select_autoescape

from tillkey.notifications.domain.language import DEFAULT
from tillkey.notifications.service_layer.ports import Rendered
from tillkey.platform.formatting import in_fours


class JinjaRenderer:
    def __init__(self):
        # StrictUndefined: a template that names a value we forgot to pass fails in the tests,
        # instead of mailing customers an empty gap.
        self._env = Environment(loader=PackageLoader("tillkey.notifications", "templates"),
                                autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                # Packaged files do not change under a running process: no stat() of
                                # each template per email to see whether it did.
                                auto_reload=False)
        self._env.filters["in_fours"] = in_fours   # IBANs as they are printed and read: DE89 3704 …
        # (template, language, kind) → the template used, the English fallback included: a language
        # without a template would otherwise raise and catch TemplateNotFound for every email.
        self._found: dict[tuple[str, str, str], Template] = {}

    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered:
        text_module = self._template(template, language, "txt").make_module(context)
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        if not subject:
            raise ValueError(f"template {language}/{template}.txt sets no subject")
        html = self._template(template, language, "html").render({**context, "subject": subject})
        return Rendered(subject=subject, text=str(text_module).strip() + "\n", html=html)

    def _template(self, name: str, language: str, kind: str) -> Template:
        found = self._found.get((name, language, kind))
        if found is None:
            try:
                found = self._env.get_template(f"{language}/{name}.{kind}")
            except TemplateNotFound:
                # English always exists: a language with a missing template still gets its email.
                found = self._env.get_template(f"{DEFAULT}/{name}.{kind}")
            self._found[(name, language, kind)] = found  # a few dozen at most: templates × languages × 2
        return found
