"""GS1's EPCIS 2.0 REST binding (../shared/epcis/epcis-rest-openapi.yaml) made usable offline, at test time.

GS1's document points at schemas and examples online (gs1.github.io); the test machine has no internet. This
loader reads the document and returns a resolved copy in memory (nothing is written, nothing is fetched):

- a ``$ref`` to ``.../REST Bindings/JSON-Schema-Stub.json#/definitions/<name>`` is pointed at ``<name>`` of GS1's own
  JSON schema for EPCIS 2.0 (``../shared/epcis/EPCIS-JSON-Schema.json``), whose definitions are copied into
  ``components/schemas`` as ``EPCISJSON_<name>`` with their internal ``#/definitions/`` references rewritten;
- an example given as a ``$ref`` to one of GS1's example documents is replaced by the local copy of that document
  (``../shared/epcis/examples/``) where there is one, else dropped;
- any other remote ``$ref`` (none today) becomes an empty, permissive schema.

Each substitution is recorded (``Loaded.substitutions``) so a test can print and check what was changed.

One defect of GS1's document is corrected (recorded in ``Loaded.corrections``, listed in docs/gs1_openapi.md): the
``CaptureJob`` schema's ``oneOf`` of ``errors`` / ``errorFile`` names neither property as required, so every object
is valid under both alternatives and no capture job (GS1's own example included) can pass it; each alternative
now requires its property, the evident intent ("`errors` or `errorFile`").
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SHARED = Path(__file__).resolve().parents[3] / "shared" / "epcis"
OPENAPI = SHARED / "epcis-rest-openapi.yaml"
JSON_SCHEMA = SHARED / "EPCIS-JSON-Schema.json"
EXAMPLES = SHARED / "examples"
STUB = "JSON-Schema-Stub.json#/definitions/"
PREFIX = "EPCISJSON_"


@dataclass
class Loaded:
    """GS1's binding with every remote reference resolved locally, and what was substituted."""

    spec: dict
    substitutions: list[tuple[str, str]] = field(default_factory=list)  # (the remote reference, what replaced it)
    corrections: list[str] = field(default_factory=list)  # defects of GS1's document corrected in the copy


def available() -> bool:
    """Whether GS1's reference material is on this machine."""
    return OPENAPI.is_file() and JSON_SCHEMA.is_file()


def _rewrite_internal(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/definitions/"):
                out[k] = "#/components/schemas/" + PREFIX + v[len("#/definitions/"):]
            elif k in ("$id", "$schema"):
                continue  # JSON-schema document keywords: no meaning inside an OpenAPI document
            else:
                out[k] = _rewrite_internal(v)
        return out
    if isinstance(node, list):
        return [_rewrite_internal(v) for v in node]
    return node


def _example_file(url: str) -> Path | None:
    name = url.rsplit("/", 1)[-1]
    path = EXAMPLES / name
    return path if path.suffix == ".jsonld" and path.is_file() else None


def load() -> Loaded:
    """Return GS1's binding resolved against the local copies (see the module's docstring).

    Raises:
        FileNotFoundError: ../shared/epcis is not there (tests skip before calling).
    """
    spec = yaml.safe_load(OPENAPI.read_text("utf-8"))
    definitions = json.loads(JSON_SCHEMA.read_text("utf-8"))["definitions"]
    loaded = Loaded(spec=spec)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions.items():
        schemas[PREFIX + name] = _rewrite_internal(copy.deepcopy(definition))

    def resolve(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                if key in ("example",):
                    local = _example_file(ref)
                    if local is not None:
                        loaded.substitutions.append((ref, f"examples/{local.name}"))
                        return json.loads(local.read_text("utf-8"))
                    loaded.substitutions.append((ref, "(example dropped)"))
                    return None
                if STUB in ref and ref.split(STUB, 1)[1] in definitions:
                    target = "#/components/schemas/" + PREFIX + ref.split(STUB, 1)[1]
                    loaded.substitutions.append((ref, target))
                    return {**{k: v for k, v in node.items() if k != "$ref"}, "$ref": target}
                loaded.substitutions.append((ref, "{} (permissive)"))
                return {k: v for k, v in node.items() if k != "$ref"}
            out = {}
            for k, v in node.items():
                value = resolve(v, k)
                if value is None and k == "example":
                    continue
                out[k] = value
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    loaded.spec = resolve(spec)
    _correct_capture_job(loaded)
    return loaded


def _correct_capture_job(loaded: Loaded) -> None:
    """Make each alternative of CaptureJob's ``oneOf`` require its one property (see the module's docstring)."""
    for part in loaded.spec["components"]["schemas"]["CaptureJob"]["allOf"]:
        for alternative in part.get("oneOf", []):
            names = sorted(alternative.get("properties", {}))
            if len(names) == 1 and "required" not in alternative:
                alternative["required"] = names
                loaded.corrections.append(f"CaptureJob oneOf: the alternative with {names[0]!r} requires it")
