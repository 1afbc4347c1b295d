"""Readable, secret-safe reprs and JSON text for every generated model.

Patches: the `__repr__` attrs writes for each generated model class. generator-templates/model.py.jinja
assigns `model_repr` and `model_to_json` in every class body (attrs keeps a class's own `__repr__`).
Why: reprs end up in tracebacks, logs and error trackers. attrs printed every absent field as `UNSET`
and, worse, third-party secrets the user stored (`layers.llm.api_key`, `layers.tts.api_key`, a
password inside `base_url`) although the debug log redacted them. Now a repr shows only the fields
that are set, and hides secrets by the one rule the logs use (`_logs.is_secret_key`, `redact_url`).
Delete when: never (an extension); tests/overrides/test_models.py has the template canary.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from ..types import Unset
from ._logs import REDACTED, is_secret_key, redact_url

__all__ = ["check_model", "json_default", "model_repr", "model_to_json"]


def model_repr(self: Any) -> str:
    parts = []
    in_auth = type(self).__name__.endswith("Auth")  # ToolAuth: `value` is the api_key type's secret
    for field in attrs.fields(type(self)):
        if field.name == "additional_properties":
            continue
        value = getattr(self, field.name)
        if not isinstance(value, Unset):
            parts.append(f"{field.name}={_safe(field.name, value, in_auth)}")
    for name, value in (getattr(self, "additional_properties", None) or {}).items():
        parts.append(f"{name}={_safe(str(name), value, in_auth)}")
    return f"{type(self).__name__}({', '.join(parts)})"


def _safe(name: str, value: Any, in_auth: bool = False) -> str:
    if is_secret_key(name, in_auth=in_auth) and value not in (None, ""):
        return repr(REDACTED)
    if isinstance(value, str):
        return repr(redact_url(value))
    if isinstance(value, list):
        return "[" + ", ".join(_safe("", item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_safe(str(k), v, name.lower() == 'auth')}" for k, v in value.items()) + "}"
    return repr(value)  # numbers, booleans, None, enums, nested models (their own safe repr)


def model_to_json(self: Any, *, indent: int | None = None) -> str:
    """The model as JSON text, as the API sends it (fields that are not set are left out)."""
    return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def json_default(value: Any) -> Any:
    """`json.dumps(model, default=json_default)`: models become their `to_dict()`."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# -- type checks of parsed answers -------------------------------------------------------------------
# The generated `from_dict` copies values without checking them: `{"persona_id": 5}` became a
# PersonaCreated whose persona_id is an int. `check_model` holds every parsed answer to the types its
# model declares (plain types: str, int, float, bool, None; nested models and lists of them in turn).
# Fields typed as something else (enums, free-form objects, Any) are left to their own parsing.
_SCALARS: dict[str, frozenset[type]] = {
    "str": frozenset({str}),
    "int": frozenset({int}),
    "float": frozenset({int, float}),
    "bool": frozenset({bool}),
    "None": frozenset({type(None)}),
    "Unset": frozenset({Unset}),
}
# Per model class: (field name, annotation, exact types allowed or None, whether the value may hold models).
_PLANS: dict[type, tuple[tuple[str, str, frozenset[type] | None, bool], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, str, frozenset[type] | None, bool], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        rows: list[tuple[str, str, frozenset[type] | None, bool]] = []
        for field in attrs.fields(cls):
            if field.name == "additional_properties":
                continue
            annotation = field.type if isinstance(field.type, str) else ""
            tokens = [t.strip() for t in annotation.split("|")]
            if annotation and all(t in _SCALARS for t in tokens):
                rows.append((field.name, annotation, frozenset().union(*(_SCALARS[t] for t in tokens)), False))
            else:  # a model, or a list of models, may need a look inside; dicts, enums and Any do not
                nested = any(t[:1].isupper() or (t.startswith("list[") and t[5:6].isupper()) for t in tokens)
                if nested:
                    rows.append((field.name, annotation, None, True))
        plan = _PLANS[cls] = tuple(rows)
    return plan


def check_model(obj: Any, where: str = "") -> None:
    """Raise TypeError naming the first value that is not of its declared plain type."""
    for name, annotation, allowed, nested in _plan(type(obj)):
        value = getattr(obj, name)
        if allowed is not None:
            if type(value) not in allowed:
                raise TypeError(f"{where}{name} is {type(value).__name__} {value!r:.40}, not {annotation}")
        elif nested:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if hasattr(item, "__attrs_attrs__"):
                        check_model(item, f"{where}{name}[{index}].")
            elif hasattr(value, "__attrs_attrs__"):
                check_model(value, f"{where}{name}.")
