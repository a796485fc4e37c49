"""`@endpoint`: request/response schemas on a view, also the source of `/openapi.json`.

Views stay thin: the decorator loads and validates the body and query (422 with field errors),
dumps the result with the response schema and sets the status. No business logic here.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import Schema, ValidationError

from tillkey.platform.inputs import refuse_unstorable
from tillkey.platform.problems import ApiError, flatten_errors

MAX_BODY_BYTES = 1024 * 1024


def _instance(schema: Schema | type[Schema] | None) -> Schema | None:
    return schema() if isinstance(schema, type) else schema


def load_json_body(schema: Schema) -> Any:
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "The request body is too large.", code="payload_too_large")
    if not request.is_json:
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.",
                       code="unsupported_media_type")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        # The parser gives up on very deep nesting with RecursionError, which `silent` lets through.
        raise ApiError(400, "The body is nested too deeply.", code="invalid_json") from None
    if payload is None and request.get_data().strip() != b"null":
        raise ApiError(400, "The body is not valid JSON.", code="invalid_json")
    if not isinstance(payload, dict):
        raise ApiError(422, "The body must be a JSON object.", code="validation_error",
                       errors={"_schema": ["Expected a JSON object."]})
    refuse_unstorable(payload, "The request has invalid fields.")
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ApiError(422, "The request has invalid fields.", code="validation_error",
                       errors=flatten_errors(exc.messages)) from None


# The customer's order token travels as `?token=` (docs/architecture.md §5); it is a credential the auth layer
# reads, not a parameter of the call, so query schemas never see it.
CREDENTIAL_PARAMS = frozenset({"token"})


def load_query(schema: Schema) -> Any:
    args = {k: v for k, v in request.args.to_dict().items() if k not in CREDENTIAL_PARAMS}
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise ApiError(422, "The query has invalid parameters.", code="validation_error",
                       errors=flatten_errors(exc.messages)) from None


def endpoint(*, body=None, query=None, response=None, status: int = 200, summary: str = "",
             auth: str = "", many: bool = False, tags: tuple[str, ...] = ()) -> Callable:
    body_schema, query_schema = _instance(body), _instance(query)
    response_schema = _instance(response)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**kwargs):
            if body_schema is not None:
                kwargs["body"] = load_json_body(body_schema)
            if query_schema is not None:
                kwargs["query"] = load_query(query_schema)
            result = view(**kwargs)
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(status=status)
            payload = response_schema.dump(result, many=many) if response_schema is not None else result
            resp = jsonify(payload)
            resp.status_code = status
            return resp

        # setattr: a function may carry attributes, but no type says so; openapi_document reads it.
        setattr(wrapper, "openapi", {  # noqa: B010
            "body": body_schema, "query": query_schema, "response": response_schema,
            "status": status, "summary": summary or (view.__doc__ or "").strip().split("\n")[0],
            "auth": auth, "many": many, "tags": tags})
        return wrapper

    return decorate


def openapi_document(app: Flask, title: str, version: str = "1.0.0") -> dict:
    from apispec import APISpec

    from tillkey.platform.openapi import DOCUMENT_RULES, OPENAPI_VERSION, marshmallow_plugin

    spec = APISpec(title=title, version=version, openapi_version=OPENAPI_VERSION, plugins=[marshmallow_plugin()],
                   info={"description": DOCUMENT_RULES})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        meta = getattr(app.view_functions.get(rule.endpoint), "openapi", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        params = [{"in": "path", "name": n, "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{([^}]+)}", path)]
        operations = {}
        # Flask gives every rule its methods; werkzeug's None (any method) would document none.
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta["summary"], "parameters": list(params), "tags": list(meta["tags"])}
            if meta["query"] is not None:
                op["parameters"].append({"in": "query", "schema": meta["query"]})
            if meta["body"] is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": meta["body"]}}}
            ok: dict[str, Any] = {"description": "OK"}
            if meta["response"] is not None:
                schema = meta["response"]
                body = {"type": "array", "items": schema} if meta["many"] else schema
                ok["content"] = {"application/json": {"schema": body}}
            op["responses"] = {str(meta["status"]): ok,
                               "default": {"description": "Problem (RFC 9457)",
                                           "content": {"application/problem+json": {"schema": {"type": "object"}}}}}
            if meta["auth"]:
                op["security"] = [{"bearer": []}]
                op["description"] = f"Authentication: {meta['auth']}."
            operations[method.lower()] = op
        spec.path(path=path, operations=operations)
    return spec.to_dict()
