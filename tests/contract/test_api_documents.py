"""Every service's OpenAPI document is exact (issue 18): schemathesis with every check over every API.

Bounded: a few examples per operation (plus schemathesis' boundary cases), on each service's real
app over SQLite, in-process. Two kinds of refusal are told apart: the schema layer's (the
`@endpoint` loaders, which the document must describe exactly) and the business rules' (an unknown
product, a currency without a price: 422s no document can foresee). A schema-valid request the
schema layer refuses is a mismatch; a business refusal is an answer.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.contract.apps import SERVICES, build
from tillkey.platform import api

pytestmark = pytest.mark.integration

EXAMPLES = 12
BUILT: dict = {}
# Default statuses for a schema-valid request, plus 422 for business rules: the schema layer's own
# refusals are caught exactly by `schema_layer_accepts_valid_data` below.
# NUL: every document states once, in its description, that no text may hold one (I-JSON).
CONFIG = SchemathesisConfig.from_dict({
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]}},
    "generation": {"allow-x00": False}})
_refusals: list[str] = []


def _recording(loader):
    def load(schema):
        try:
            return loader(schema)
        except Exception as exc:
            _refusals.append(f"{type(schema).__name__}: {getattr(exc, 'errors', exc)}")
            raise
    return load


@pytest.fixture(autouse=True, scope="module")
def _watch_the_schema_layer():
    originals = api.load_json_body, api.load_query
    api.load_json_body, api.load_query = (_recording(f) for f in originals)
    yield
    api.load_json_body, api.load_query = originals


@schemathesis.check
def schema_layer_accepts_valid_data(ctx, response, case):
    """A request the document calls valid passes the schema layer (it may still meet a business rule)."""
    refused, _refusals[:] = list(_refusals), []
    if case.meta is not None and case.meta.generation.mode.is_positive and refused:
        raise AssertionError(f"the document allows what the validation refuses: {refused}")


def _schema_fixture(service: str):
    @pytest.fixture(scope="module", name=f"{service}_api")
    def fixture(tmp_path_factory):
        BUILT[service] = build(service, tmp_path_factory.mktemp(service))
        return schemathesis.openapi.from_wsgi("/openapi.json", BUILT[service].app, config=CONFIG)
    return fixture


def _test(service: str):
    schema = schemathesis.pytest.from_fixture(f"{service}_api")

    @schema.parametrize()
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def test(case):
        _refusals.clear()
        auth = case.operation.definition.raw.get("description", "")
        case.call_and_validate(headers=BUILT[service].headers_for(auth))

    return test


for _service in SERVICES:
    globals()[f"{_service}_api"] = _schema_fixture(_service)
    globals()[f"test_{_service}_api_matches_its_document"] = _test(_service)
