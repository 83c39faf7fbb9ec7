"""Fuzz every REST endpoint of every component from the OpenAPI it publishes (Schemathesis).

A case fails on: any 5xx, a response that does not match the OpenAPI (status, content type, body schema,
headers), input the OpenAPI forbids accepted, an unsupported method not answered 405, an error
whose body is not the one JSON error shape or that shows a server path, the server process dying, or its
memory passing the component's Kubernetes limit.

CI runs ``report.EXAMPLES`` cases per endpoint (derandomized); ``AI4COP_FUZZ_EXAMPLES=5000 pytest -m fuzz`` runs
longer, with new cases each run.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from components.common.catalogue import CATALOGUE
from tests.fuzz.conftest import Served, World, memory_limit
from tests.fuzz.report import EXAMPLES, TALLY

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]


fuzzing = settings(max_examples=EXAMPLES, deadline=None, derandomize="AI4COP_FUZZ_EXAMPLES" not in os.environ,
                   suppress_health_check=list(HealthCheck), database=None, print_blob=True)


def judge(case: Any, served: Served, world: World) -> None:
    response = case.call(base_url=served.web_url, timeout=60)
    TALLY.count(f"REST {served.name} {case.method} {case.path}", str(response.status_code))
    assert served.alive(), f"{served.name} died on {case.method} {case.path}:\n{served.log_tail()}"
    rss = served.rss()
    assert rss <= memory_limit(served.name), f"{served.name} uses {rss / 2**20:.0f} MiB, past its pod's limit"
    # every built-in check but "schema-valid data is accepted": a JSON Schema cannot say that an AOI is valid
    # WKT or that an end comes after its start, so such requests are 422, which the OpenAPI declares
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    if response.status_code >= 400:
        one_error_shape(response.json(), response.text, world)


def one_error_shape(body: Any, text: str, world: World) -> None:
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("detail"), str), (
        f"not the one error shape: {text[:300]}")
    assert str(world.root) not in text and "Traceback" not in text, text[:500]


@pytest.mark.parametrize("name", [entry.name for entry in CATALOGUE])
def test_rest_api_answers_what_its_openapi_says(fleet: dict[str, Served], world: World, name: str) -> None:
    """Each operation: cases that fit its OpenAPI (positive) and cases that do not (negative)."""
    served = fleet[name]
    schema = schemathesis.openapi.from_url(f"{served.web_url}/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @fuzzing
        @given(cases)
        def case(case: Any) -> None:
            judge(case, served, world)

        case()


@pytest.mark.parametrize("name", [entry.name for entry in CATALOGUE])
def test_rest_api_refuses_unknown_paths_and_methods(fleet: dict[str, Served], world: World, name: str) -> None:
    """405 (with ``Allow``) for a method a path does not have, 404 for a path that does not exist: the error shape."""
    served = fleet[name]
    paths = httpx.get(f"{served.web_url}/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method in {"get", "put", "post", "delete", "patch"} - set(operations):
            response = httpx.request(method, served.web_url + path)
            TALLY.count(f"REST {name} unsupported methods", str(response.status_code))
            assert response.status_code == 405 and response.headers.get("allow"), (method, path, response.text)
            one_error_shape(response.json(), response.text, world)
    response = httpx.get(f"{served.web_url}/no/such/path/{'%00' * 3}")
    assert response.status_code == 404
    one_error_shape(response.json(), response.text, world)
