"""Text no database can hold, refused at the HTTP edge before any view or query sees it.

PostgreSQL rejects a NUL character in text and an unpaired surrogate (`"\\ud800"` is valid JSON)
cannot be encoded as UTF-8 for any driver: either reached the database as a 500. One check here
covers every service, every path id, query parameter, form field and JSON body, on SQLite and
PostgreSQL alike, instead of a rule per field.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request

from tillkey.platform.problems import ApiError

UNSTORABLE_MESSAGE = "Contains a character that is not allowed (a NUL or an unpaired surrogate)."


def is_unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_fields(value: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"customer.first_name": [message]} for every string (value or key) that cannot be stored.

    Iterative on purpose: a JSON body nested almost to the parser's limit must not overflow the
    stack here either.
    """
    found: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if is_unstorable(item):
                found[path or "_schema"] = [UNSTORABLE_MESSAGE]
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and is_unstorable(key):
                    found[path or "_schema"] = [UNSTORABLE_MESSAGE]
                    continue
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(item))
    return found


def refuse_unstorable(value: Any, detail: str, prefix: str = "") -> None:
    errors = unstorable_fields(value, prefix)
    if errors:
        raise ApiError(422, detail, code="validation_error", errors=errors)


def _guard_request() -> None:
    # A path id with such a character names nothing that can exist.
    if any(isinstance(v, str) and is_unstorable(v) for v in (request.view_args or {}).values()):
        raise ApiError(404, "No such resource.", code="not_found")
    _refuse_parameters(request.args, "The query has invalid parameters.")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # Keep the raw bytes: a view may still need them exactly as sent (a signed gateway callback).
        request.get_data(cache=True)
        _refuse_parameters(request.form, "The form has invalid fields.")


def _refuse_parameters(multidict, detail: str) -> None:
    """Every occurrence of a repeated parameter is checked, reported under the parameter's name."""
    errors = {key if not is_unstorable(key) else "_schema": [UNSTORABLE_MESSAGE]
              for key, values in multidict.lists() if is_unstorable(key) or any(map(is_unstorable, values))}
    if errors:
        raise ApiError(422, detail, code="validation_error", errors=errors)


def install_input_guard(app: Flask) -> None:
    """Path, query and form checks for every route (JSON bodies: `api.load_json_body`)."""
    app.before_request(_guard_request)
