"""/openapi.json (what /docs shows, what clients are generated from) carries the project's
contracts: the request body of POST /predict is contracts/input.schema.json and its answer
contracts/output.schema.json; /predict/batch takes and gives lists of the same.

The schemas are compared after normalising what differs only in spelling: $ref and
definitions resolved; a type list, anyOf over types and OpenAPI 3.0's "nullable" (pydantic 1)
all become a set of types; const becomes a one-value enum, and null leaves enums (the type set
says it). Titles, descriptions and examples are prose, not contract, and are left out.
"""
import json
from typing import Any, Dict

import pytest

PROSE = {"title", "description", "examples", "example", "$schema", "$id", "$comment"}


def resolve(document: Dict[str, Any], reference: str) -> Dict[str, Any]:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def normalize(schema: Any, document: Dict[str, Any]) -> Any:
    """A canonical form of `schema`, with the $refs of `document` resolved."""
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    while "$ref" in schema:  # siblings of a $ref (OpenAPI 3.1) add to the target
        target = dict(resolve(document, schema.pop("$ref")))
        target.update(schema)
        schema = target
    for combinator in ("allOf",):  # pydantic 1 wraps a described $ref in allOf: [$ref]
        if combinator in schema and len(schema[combinator]) == 1:
            inner = normalize(schema.pop(combinator)[0], document)
            schema = dict(inner, **{k: v for k, v in schema.items() if k not in PROSE})
    out: Dict[str, Any] = {}
    types = set()
    branches = schema.pop("anyOf", None) or schema.pop("oneOf", None)
    if branches:
        for branch in (normalize(b, document) for b in branches):
            types |= set(branch.pop("types", []))
            for key, value in branch.items():
                if key == "enum":
                    out["enum"] = sorted(set(out.get("enum", [])) | set(value))
                else:
                    out[key] = value
    if "type" in schema:
        kind = schema.pop("type")
        types |= {kind} if isinstance(kind, str) else set(kind)
    if schema.pop("nullable", False):
        types.add("null")
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    for key, value in schema.items():
        if key in PROSE or key == "default":
            continue
        if key == "enum":
            out["enum"] = sorted(set(out.get("enum", [])) | {json.dumps(item) for item in value if item is not None})
        elif key == "properties":
            out["properties"] = {name: normalize(prop, document) for name, prop in value.items()}
        elif key == "items":
            out["items"] = normalize(value, document)
        elif key == "required":
            out["required"] = sorted(value)
        elif key == "additionalProperties":
            if value is False:
                out["additionalProperties"] = False
        elif key in ("minimum", "maximum"):
            out[key] = float(value)
        else:
            out[key] = value
    if types:
        out["types"] = sorted(types)
    return out


@pytest.fixture
def openapi(client) -> Dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def request_schema(openapi, path):
    body = openapi["paths"][path]["post"]["requestBody"]
    assert body.get("required") is True
    return normalize(body["content"]["application/json"]["schema"], openapi)


def response_schema(openapi, path, method="post", status="200"):
    return normalize(openapi["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"], openapi)


def contract(project_json, name):
    return normalize(project_json(f"contracts/{name}.schema.json"), {})


def test_the_request_of_predict_is_the_input_contract(openapi, project_json):
    assert request_schema(openapi, "/predict") == contract(project_json, "input")


def test_the_answer_of_predict_is_the_output_contract(openapi, project_json):
    assert response_schema(openapi, "/predict") == contract(project_json, "output")


def test_the_batch_takes_and_gives_lists_of_the_same_contracts(openapi, project_json):
    batch = request_schema(openapi, "/predict/batch")
    assert batch["required"] == ["records"] and batch["additionalProperties"] is False
    assert batch["properties"]["records"] == {"items": contract(project_json, "input"), "types": ["array"]}

    answer = response_schema(openapi, "/predict/batch")
    output = contract(project_json, "output")
    request_level = {"model", "request_id", "client_request_id"}
    item = answer["properties"]["predictions"]["items"]
    assert item["properties"] == {k: v for k, v in output["properties"].items() if k not in request_level}
    assert item["required"] == sorted(set(output["required"]) - request_level)
    assert {k: answer["properties"][k] for k in request_level} == {k: output["properties"][k] for k in request_level}


def test_every_route_documents_its_answer(openapi):
    expected = {("post", "/predict"), ("post", "/predict/batch"), ("get", "/health"), ("get", "/ready"),
                ("get", "/metrics"), ("get", "/version")}
    documented = {(method, path) for path, methods in openapi["paths"].items() for method in methods}
    assert expected <= documented
    for method, path in expected:
        content = openapi["paths"][path][method]["responses"]["200"]["content"]
        if path == "/metrics":
            assert any(kind.startswith("text/plain") for kind in content)
        else:
            assert content["application/json"]["schema"], (method, path)
    for path in ("/predict", "/predict/batch"):
        errors = openapi["paths"][path]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
        assert "errors" in normalize(errors, openapi)["properties"]
