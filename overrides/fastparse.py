"""A fast, type-checking `from_dict` for every generated model.

Patches: the generated `from_dict` classmethods. generator-templates/model.py.jinja renames the
generator's own method to `_from_dict_generated` and makes `from_dict` call `from_dict_fast` here.
Why: the generated method defines a closure per nullable field on every call, calls each enum through
`EnumMeta.__call__` and copies the dict; a 100-item verbose persona list took about 11x `json.loads`
to build, and the client's type check (`models.check_model`) walked the result again. This module
compiles, once per model class, a straight-line decoder from the class's attrs fields that builds the
model and checks each value's type in the same pass.
A field that holds one nested model (a persona's `layers`) is type-checked in full during that pass
but built on first read (`_LazyField` wraps the class's slot): a list of 100 personas allocates 100
models instead of about 800, which is most of what the garbage collector was spending on a parse.
Reading such a field costs one decode then (the model is kept); a wrong type inside still fails the
parse at once. The stored JSON object is the one the caller passed: changing that dict before the
field is read changes what it builds (the client's own answers are never shared).
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
from ._callstate import FALLBACKS

__all__ = ["checker_for", "decoder_for", "eager_decoder_for", "fallbacks", "from_dict_fast"]

T = TypeVar("T")


class _Fallback(Exception):
    """The answer is not one the fast decoder vouches for: let the generated method decide."""


_DECODERS: dict[type, Callable[[Any], Any]] = {}
_CHECKERS: dict[type, Callable[[Any], Any]] = {}
_EAGER: dict[type, Callable[[Any], Any]] = {}
_SCALARS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None)}
_count = FALLBACKS  # one counter, kept in _callstate


def fallbacks() -> int:
    """How many times the generated method had to run; the client compares it before and after a parse."""
    return _count[0]


def from_dict_fast(cls: type[T], src_dict: Mapping[str, Any]) -> T:
    return _decoded(_DECODERS.get(cls) or decoder_for(cls), cls, src_dict)


def _build_whole(cls: type[T], src_dict: Mapping[str, Any]) -> T:
    """A model and everything in it built at once (what reading a lazy field does: it pays once)."""
    return _decoded(_EAGER.get(cls) or eager_decoder_for(cls), cls, src_dict)


def _decoded(decode: Callable[[Any], Any], cls: type[T], src_dict: Mapping[str, Any]) -> T:
    try:
        return decode(src_dict)  # type: ignore[no-any-return]
    except _Fallback:
        _count[0] += 1
        return cls._from_dict_generated(src_dict)  # type: ignore[attr-defined,no-any-return]


def _not_str() -> Any:
    raise _Fallback


def decoder_for(cls: type) -> Callable[[Any], Any]:
    """The compiled decoder of one model class (compiled on first use, then cached)."""
    return _compiled(cls, build=True)


def eager_decoder_for(cls: type) -> Callable[[Any], Any]:
    """The compiled decoder that builds nested models at once too (used when a lazy field is read)."""
    return _compiled(cls, build=True, lazy=False)


def checker_for(cls: type) -> Callable[[Any], Any]:
    """The compiled type check of one model class: it reads a dict as the decoder would and raises
    where the decoder would stop, but builds nothing (the eager half of a lazily built field)."""
    return _compiled(cls, build=False)


def _compiled(cls: type, *, build: bool, lazy: bool = True) -> Callable[[Any], Any]:
    cache = (_DECODERS if lazy else _EAGER) if build else _CHECKERS
    found = cache.get(cls)
    if found is not None:
        return found
    namespace: dict[str, Any] = {"UNSET": UNSET, "FALLBACK": _Fallback, "NEW": object.__new__, "NOTSTR": _not_str}
    source = _source(cls, namespace, build=build, lazy=lazy)
    if source is None:  # a shape this module does not decode: always the generated method

        def compiled(src: Any) -> Any:
            raise _Fallback

    else:
        kind = ("decoder" if lazy else "eager decoder") if build else "check"
        exec(compile(source, f"<fastparse {kind} {cls.__name__}>", "exec"), namespace)
        compiled = namespace["decode"]
    cache[cls] = compiled
    # Nested decoders and checks are looked up when the code runs, so recursive models compile.
    for key, nested in list(namespace.items()):
        if key.startswith("M_"):
            namespace["D_" + key[2:]] = decoder_for(nested)
        elif key.startswith("C_"):
            namespace["K_" + key[2:]] = checker_for(nested)
        elif key.startswith("G_"):
            namespace["X_" + key[2:]] = eager_decoder_for(nested)
        elif key.startswith("LAZY_"):
            _make_lazy(cls, key[5:], nested)
    return compiled


class _LazyField:
    """A model-valued field of a decoded model, built on first read.

    The decoder type-checks the nested object in full when it parses (so a bad answer still fails at
    once, naming the field) but stores the JSON object as it came; reading the field builds the model
    then and keeps it. Wraps the slot of an attrs class with `slots=True`; a value set by hand, or by
    the generator's own method, is a model already and is returned as it is.
    """

    __slots__ = ("model", "slot")

    def __init__(self, slot: Any, model: type) -> None:
        self.slot = slot
        self.model = model

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.slot.__get__(obj, owner)
        if type(value) is dict:
            value = _build_whole(self.model, value)
            self.slot.__set__(obj, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self.slot.__set__(obj, value)

    def __delete__(self, obj: Any) -> None:
        self.slot.__delete__(obj)


def _make_lazy(cls: type, field: str, model: type) -> None:
    slot = cls.__dict__.get(field)
    if slot is not None and not isinstance(slot, _LazyField):
        setattr(cls, field, _LazyField(slot, model))


def _resolve(cls: type, name: str) -> Any:
    module = sys.modules[cls.__module__]
    found = getattr(module, name, None)
    if found is None:
        models = sys.modules[cls.__module__.rsplit(".", 1)[0]]
        found = getattr(models, name, None)
    return found


def _source(cls: type, ns: dict[str, Any], *, build: bool = True, lazy: bool = True) -> str | None:
    if not attrs.has(cls) or not hasattr(cls, "_from_dict_generated") or "__slots__" not in cls.__dict__:
        return None
    body = _body(cls, ns, "", (cls,), build, lazy)
    if body is None:
        return None
    result = "obj" if build else "None"
    return "\n".join(["def decode(src):", *("    " + line for line in body), f"    return {result}", ""])


# A nested model's check is written into its parent's code (no call per nested object) this deep;
# deeper ones, and a model nested in itself, call their own check.
_INLINE_DEPTH = 2


def _body(  # noqa: PLR0915 (one branch per kind of field)
    cls: type, ns: dict[str, Any], p: str, stack: tuple[type, ...], build: bool, lazy: bool = True
) -> list[str] | None:
    """Lines that read the dict `{p}src` into a new `{p}obj` of `cls` (names prefixed by `p`), or with
    `build` false only check it. With `lazy`, a field holding one nested model (not a list of them)
    is checked here and built on first read (`_LazyField`); models in lists are built at once."""
    src, obj, v, n = p + "src", p + "obj", p + "v", p + "n"
    ns[p + "cls"] = cls
    lines = [f"if type({src}) is not dict: raise FALLBACK", f"{n} = 0"]
    if build:
        lines.insert(1, f"{obj} = NEW({p}cls)")
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
            if target is not None and attrs.has(target):  # a map whose values are models
                prefix, call = ("M_", "D_") if lazy else ("G_", "X_")
                ns[f"{prefix}{p}extra" if build else f"C_{p}extra"] = target
                extra_value = f"{call}{p}extra(x)" if build else f"K_{p}extra(x)"
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
                # An unknown value goes through the enum's own call, which raises as the generator's would.
                if is_list:
                    convert = f"[V{name}.get(x) or E{name}(x) if type(x) is str else NOTSTR() for x in {v}]"
                    steps.append(f"{v} = {convert}" if build else convert)
                else:
                    steps += [f"if type({v}) is not str: raise FALLBACK", f"m = V{name}.get({v})"]
                    steps.append(f"{v} = E{name}({v}) if m is None else m" if build else f"if m is None: E{name}({v})")
            elif isinstance(target, type) and attrs.has(target):
                inline = None
                eager = build and not lazy  # nested models built here, inline or by their own eager decoder
                if not is_list and len(stack) <= _INLINE_DEPTH and target not in stack:
                    inline = _body(target, ns, f"i{name}_", (*stack, target), eager, False)
                if is_list and build:
                    prefix, call = ("M_", "D_") if lazy else ("G_", "X_")
                    ns[f"{prefix}{name}"] = target
                    steps.append(f"{v} = [{call}{name}(x) for x in {v}]")
                elif eager and inline is not None:
                    steps += [f"i{name}_src = {v}", *inline, f"{v} = i{name}_obj"]
                elif eager:
                    ns[f"G_{name}"] = target
                    steps.append(f"{v} = X_{name}({v})")
                elif is_list:
                    ns[f"C_{name}"] = target
                    steps.append(f"for x in {v}: K_{name}(x)")
                elif inline is not None:
                    steps += [f"i{name}_src = {v}", *inline]
                else:
                    ns[f"C_{name}"] = target
                    steps.append(f"K_{name}({v})")
                if build and lazy and not is_list:
                    ns[f"LAZY_{field.name}"] = target  # stored as the JSON object; built on first read
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
        if build:
            lines.append(f"{obj}.{field.name} = {v}")
    if extra and build:
        ns[f"KNOWN{p}"] = frozenset(known)
        lines += [
            f"if {n} == len({src}):",
            f"    {obj}.additional_properties = {{}}",
            "else:",
            f"    {obj}.additional_properties = {{k: {extra_value} for k, x in {src}.items() if k not in KNOWN{p}}}",
        ]
    elif extra and extra_value != "x":
        ns[f"KNOWN{p}"] = frozenset(known)
        lines += [
            f"if {n} != len({src}):",
            f"    for k, x in {src}.items():",
            f"        if k not in KNOWN{p}: {extra_value}",
        ]
    elif not build:  # nothing reads the count of known keys
        lines = [line for line in lines if line.strip() not in (f"{n} = 0", f"{n} += 1")]
    return lines


def _json_name(cls: type, python_name: str) -> str | None:
    """The JSON key of a field whose Python name differs (the generator snake-cases keys)."""
    names: dict[str, str] | None = getattr(cls, "_JSON_NAMES", None)
    return None if names is None else names.get(python_name)
