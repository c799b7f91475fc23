"""OpenAPI links: which response gives the id the next operation takes (create, then read and change).

Clients can follow them, and schemathesis' stateful phase chains its calls along them (tests/api).
"""

from __future__ import annotations

from typing import Any

_ORG = "/v1/organisations/{organisation_id}"
_HOME = "/v1/homes/{home_id}"
_DEVICE = "/v1/devices/{device_id}"
_USER = "/v1/users/{user_id}"

# (method, path, status) of the producer -> (parameter, where in its body, [(method, path) of consumers]).
LINKS: dict[tuple[str, str, str], tuple[str, str, list[tuple[str, str]]]] = {
    ("post", "/v1/organisations", "201"): (
        "organisation_id",
        "/id",
        [("get", _ORG), ("post", f"{_ORG}/homes"), ("post", f"{_ORG}/api-keys"), ("get", f"{_ORG}/devices")],
    ),
    ("post", f"{_ORG}/homes", "201"): (
        "home_id",
        "/id",
        [
            ("get", _HOME),
            ("post", f"{_HOME}/residents"),
            ("get", f"{_HOME}/residents"),
            ("post", f"{_HOME}/devices"),
            ("get", f"{_HOME}/devices"),
            ("get", f"{_HOME}/circle"),
            ("get", f"{_HOME}/carers"),
            ("get", f"{_HOME}/readings"),
        ],
    ),
    ("post", f"{_HOME}/devices", "201"): (
        "device_id",
        "/device_id",
        [("get", _DEVICE), ("post", f"{_DEVICE}/rotate"), ("post", f"{_DEVICE}/revoke")],
    ),
    ("post", f"{_ORG}/api-keys", "201"): ("key_id", "/id", [("post", "/v1/api-keys/{key_id}/revoke")]),
    ("post", "/v1/invitations", "201"): ("user_id", "/user/id", [("get", _USER), ("patch", _USER)]),
}


def add_links(schema: dict[str, Any]) -> None:
    """Put LINKS into the document's responses, naming each consumer by its operationId."""
    paths = schema.get("paths", {})
    for (method, path, status), (parameter, pointer, consumers) in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_method, target_path in consumers:
            operation_id = paths[target_path][target_method]["operationId"]
            links[operation_id] = {
                "operationId": operation_id,
                "parameters": {parameter: f"$response.body#{pointer}"},
            }
