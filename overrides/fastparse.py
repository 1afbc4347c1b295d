"""A fast, type-checking `from_dict` for every generated model.

Patches: the generated `from_dict` classmethods. generator-templates/model.py.jinja renames the
generator's own method to `_from_dict_generated` and makes `from_dict` call `from_dict_fast` here.
Why: the generated method defines a closure per nullable field on every call, calls each enum through
`EnumMeta.__call__` and copies the dict; a 100-item verbose persona list took about 11x `json.loads`
to build, and the client's type check (`models.check_model`) walked the result again. This module
compiles, once per model class, a straight-line decoder from the class's attrs fields that builds the
model and checks each value's type in the same pass.
Semantics: the decoder only succeeds where the generator's method would build the same object *and*
`check_model` would accept it. Anything else (a value of another type, a non-dict where a model is
expected, a shape the decoder does not know) stops it, and the generator's own method runs from the
top, unchanged; `fallbacks()` counts those runs, so the client re-checks exactly those answers.
tests/overrides/test_fastparse.py holds the two paths equal on generated data for every model.
Delete when: the generator's models parse within about 2x `json.loads` on their own (measured by
bench/bench_client.py), or models move to a compiled library.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from ..types import UNSET

__all__ = ["decoder_for", "fallbacks", "from_dict_fast"]

T = TypeVar("T")


class _Fallback(Exception):
    """The answer is not one the fast decoder vouches for: let the generated method decide."""


_DECODERS: dict[type, Callable[[Any], Any]] = {}
_SCALARS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None)}
_count = [0]


def fallbacks() -> int:
    """How many times the generated method had to run; the client compares it before and after a parse."""
    return _count[0]


def from_dict_fast(cls: type[T], src_dict: Mapping[str, Any]) -> T:
    decode = _DECODERS.get(cls) or decoder_for(cls)
    try:
        return decode(src_dict)  # type: ignore[no-any-return]
    except _Fallback:
        _count[0] += 1
        return cls._from_dict_generated(src_dict)  # type: ignore[attr-defined,no-any-return]


def _not_str() -> Any:
    raise _Fallback


def decoder_for(cls: type) -> Callable[[Any], Any]:
    """The compiled decoder of one model class (compiled on first use, then cached)."""
    decoder = _DECODERS.get(cls)
    if decoder is not None:
        return decoder
    namespace: dict[str, Any] = {"UNSET": UNSET, "FALLBACK": _Fallback, "NEW": object.__new__, "NOTSTR": _not_str}
    source = _source(cls, namespace)
    if source is None:  # a shape this module does not decode: always the generated method

        def decoder(src: Any) -> Any:
            raise _Fallback

    else:
        exec(compile(source, f"<fastparse {cls.__name__}>", "exec"), namespace)
        decoder = namespace["decode"]
    _DECODERS[cls] = decoder
    # Nested decoders are looked up when the decoder runs, so recursive models compile.
    for key, nested in list(namespace.items()):
        if key.startswith("M_"):
            namespace["D_" + key[2:]] = decoder_for(nested)
    return decoder


def _resolve(cls: type, name: str) -> Any:
    module = sys.modules[cls.__module__]
    found = getattr(module, name, None)
    if found is None:
        models = sys.modules[cls.__module__.rsplit(".", 1)[0]]
        found = getattr(models, name, None)
    return found


def _source(cls: type, ns: dict[str, Any]) -> str | None:
    if not attrs.has(cls) or not hasattr(cls, "_from_dict_generated"):
        return None
    body = _body(cls, ns, "", (cls,))
    if body is None:
        return None
    return "\n".join(["def decode(src):", *("    " + line for line in body), "    return obj", ""])


# Nested models are written into their parent's decoder (no call per nested object) this deep;
# deeper ones, and a model nested in itself, call their own decoder.
_INLINE_DEPTH = 2


def _body(cls: type, ns: dict[str, Any], p: str, stack: tuple[type, ...]) -> list[str] | None:  # noqa: PLR0915 (one branch per kind of field)
    """Lines that read the dict `{p}src` into a new `{p}obj` of `cls` (names prefixed by `p`)."""
    src, obj, v, n = p + "src", p + "obj", p + "v", p + "n"
    ns[p + "cls"] = cls
    lines = [f"if type({src}) is not dict: raise FALLBACK", f"{obj} = NEW({p}cls)", f"{n} = 0"]
    known: list[str] = []
    extra = False
    extra_value = "x"  # other values are kept as they came (the generator does not look inside)
    for i, field in enumerate(attrs.fields(cls)):
        annotation = field.type if isinstance(field.type, str) else None
        if annotation is None:
            return None
        if field.name == "additional_properties":
            value_type = annotation.removeprefix("dict[str, ").removesuffix("]")
            target = _resolve(cls, value_type)
            if target is not None and attrs.has(target):
                ns[f"M_{p}extra"] = target  # a map whose values are models
                extra_value = f"D_{p}extra(x)"
            extra = True
            continue
        json_name = _json_name(cls, field.name) or field.name
        tokens = [t.strip() for t in annotation.split("|")]
        optional = "Unset" in tokens
        nullable = "None" in tokens
        kinds = [t for t in tokens if t not in ("Unset", "None")]
        known.append(json_name)
        name = f"{p}{i}"
        steps: list[str] = []
        if all(t in _SCALARS for t in kinds):
            allowed = {_SCALARS[t] for t in kinds}
            if "float" in kinds:
                allowed.add(int)
            if nullable:
                allowed.add(type(None))
            # Identity tests of the exact type (as check_model: a bool is not an int); None by identity.
            tests = [f"{v} is not None"] if type(None) in allowed else []
            allowed.discard(type(None))
            for index, kind_type in enumerate(sorted(allowed, key=lambda t: t.__name__)):
                ns[f"T{name}_{index}"] = kind_type
                tests.append(f"type({v}) is not T{name}_{index}")
            steps.append(f"if {' and '.join(tests)}: raise FALLBACK")
            nullable = False  # None is among the allowed types already
        elif kinds == ["Any"]:
            pass
        elif len(kinds) == 1:
            kind = kinds[0]
            is_list = kind.startswith("list[")
            inner = kind[5:-1] if is_list else kind
            target = _resolve(cls, inner)
            if is_list:
                steps.append(f"if type({v}) is not list: raise FALLBACK")
            if inner in _SCALARS and is_list:
                pass  # the generator keeps such lists as they came, and check_model does not look inside
            elif isinstance(target, type) and issubclass(target, enum.Enum):
                ns[f"E{name}"] = target
                ns[f"V{name}"] = target._value2member_map_
                # Only strings: anything else is left to the generated method's own call and errors.
                if is_list:
                    steps += [f"{v} = [V{name}.get(x) or E{name}(x) if type(x) is str else NOTSTR() for x in {v}]"]
                else:
                    steps += [
                        f"if type({v}) is not str: raise FALLBACK",
                        f"m = V{name}.get({v})",
                        f"{v} = E{name}({v}) if m is None else m",
                    ]
            elif isinstance(target, type) and attrs.has(target):
                inline = None
                if not is_list and len(stack) <= _INLINE_DEPTH and target not in stack:
                    inline = _body(target, ns, f"i{name}_", (*stack, target))
                if inline is not None:
                    steps += [f"i{name}_src = {v}", *inline, f"{v} = i{name}_obj"]
                else:
                    ns[f"M_{name}"] = target
                    steps.append(f"{v} = [D_{name}(x) for x in {v}]" if is_list else f"{v} = D_{name}({v})")
            else:
                return None
        else:
            return None
        if nullable and steps:
            steps = [f"if {v} is not None:", *("    " + step for step in steps)]
        key = repr(json_name)
        if optional:
            lines += [f"if {key} in {src}:", f"    {v} = {src}[{key}]", *("    " + step for step in steps)]
            lines += [f"    {n} += 1", "else:", f"    {v} = UNSET"]
        else:
            lines += [f"if {key} not in {src}: raise FALLBACK", f"{v} = {src}[{key}]", *steps, f"{n} += 1"]
        lines.append(f"{obj}.{field.name} = {v}")
    if extra:
        ns[f"KNOWN{p}"] = frozenset(known)
        lines += [
            f"if {n} == len({src}):",
            f"    {obj}.additional_properties = {{}}",
            "else:",
            f"    {obj}.additional_properties = {{k: {extra_value} for k, x in {src}.items() if k not in KNOWN{p}}}",
        ]
    return lines


def _json_name(cls: type, python_name: str) -> str | None:
    """The JSON key of a field whose Python name differs (the generator snake-cases keys)."""
    names: dict[str, str] | None = getattr(cls, "_JSON_NAMES", None)
    return None if names is None else names.get(python_name)
