"""Shared pieces of the property-based parser tests (hypothesis): value strategies, a small TOML
writer, and the check that an error is larvasim's own, with a message that names the input."""
from __future__ import annotations

import math
import re

from hypothesis import strategies as st

#: Packages whose exception classes count as larvasim's own.
PROJECT_PACKAGES = ("connectomes", "models", "sim", "experiments", "larvasim")

#: Phrases of Python's, numpy's or pandas' own messages: a ValueError that carries one was not written
#: for the user (it leaked through, or was re-raised with a file name stuck in front).
FOREIGN_PHRASES = re.compile(
    r"object is not|has no attribute|unsupported operand|positional argument|not subscriptable|NoneType"
    r"|invalid literal for|could not convert|index out of range|math domain|dictionary update sequence"
    r"|unhashable type|not iterable|cannot convert float|must be real number|int\(\) argument"
    r"|too many values to unpack|not enough values to unpack|Python int too large")


def check_own_error(exc: BaseException, *names: str) -> None:
    """``exc`` is larvasim's own error (a project class, or a plain ``ValueError`` raised by larvasim)
    with a non-empty message that is not a leaked Python message and names one of ``names``."""
    t = type(exc)
    own = t.__module__.split(".")[0] in PROJECT_PACKAGES
    assert own or t is ValueError, f"foreign exception {t.__module__}.{t.__qualname__}: {exc}"
    assert not isinstance(exc, UnicodeError), f"leaked {t.__name__}: {exc}"
    msg = str(exc)
    assert msg.strip(), f"{t.__name__} without a message"
    assert not FOREIGN_PHRASES.search(msg), f"message reads like a leaked Python error: {msg!r}"
    if names:
        assert any(n in msg for n in names), f"message names none of {names}: {msg!r}"


# ----------------------------------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------------------------------
UNITS = ("Hz", "kHz", "ms", "s", "second", "mV", "nS", "pA", "mm", "parsecs", "hz", "V", "")

numbers = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 0.5, 1e-300, 1e300, 2**63, -2**63 - 1]),
)

#: Text shaped like a quantity: "80 Hz", "-1e999 ms", "nan Hz", "5 parsecs", "80".
quantity_text = st.builds(
    lambda n, sep, u: f"{n}{sep}{u}",
    st.one_of(numbers, st.sampled_from(["nan", "inf", "-inf", "1e999", ".", "1e", "+-1", "0x10"])),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(UNITS),
)

short_text = st.text(max_size=12)
texts = st.one_of(short_text, quantity_text, st.sampled_from(["", " ", "*", "?", "|", ",", "=", "[", "\x00",
                                                              "é", "🐛", "KC", "olfactory", "left", "APL"]))

toml_scalars = st.one_of(texts, numbers, st.booleans())


def toml_values(max_leaves: int = 6):
    """Any TOML value: scalars, arrays (also mixed) and tables, nested."""
    keys = st.one_of(texts, st.sampled_from(["rate", "name", "select", "mode", "start", "stop"]))
    return st.recursive(toml_scalars,
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(keys, inner, max_size=3)),
                        max_leaves=max_leaves)


# ----------------------------------------------------------------------------------------------
# a minimal TOML writer (inline tables; arrays of tables as [[name]])
# ----------------------------------------------------------------------------------------------
def _key(k) -> str:
    k = str(k)
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _string(k)


def _string(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F or 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}" if o < 0xD800 else "?")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if -2**63 <= v < 2**63 else _string(str(v))  # TOML integers are 64-bit
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML form for {v!r}")


def toml_dumps(doc: dict) -> str:
    """``doc`` as TOML: top-level scalars first, then ``[table]``s, then lists of dicts as ``[[name]]``."""
    head, tables, arrays = [], [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append(f"[{_key(k)}]\n" + "".join(f"{_key(a)} = {toml_value(b)}\n" for a, b in v.items()))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for t in v:
                arrays.append(f"[[{_key(k)}]]\n" + "".join(f"{_key(a)} = {toml_value(b)}\n" for a, b in t.items()))
        else:
            head.append(f"{_key(k)} = {toml_value(v)}\n")
    return "".join(head) + "\n".join(tables + arrays)


# ----------------------------------------------------------------------------------------------
# mutated copies of valid documents
# ----------------------------------------------------------------------------------------------
def _paths(node, prefix=()):
    """Every path into ``node`` (dict keys and list indices), parents before children."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out += _paths(v, prefix + (k,))
    return out


def mutate(doc: dict, data, values=None, n_max: int = 2) -> dict:
    """A copy of ``doc`` with 1..n_max edits drawn from ``data`` (hypothesis ``st.data()``): a value
    replaced (by any TOML value, or one of ``values``), a key deleted, or an extra key added."""
    import copy

    doc = copy.deepcopy(doc)
    values = values if values is not None else st.one_of(toml_values(4), quantity_text)
    for _ in range(data.draw(st.integers(1, n_max), label="edits")):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        how = data.draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]), label="how")
        if how == "replace":
            parent[path[-1]] = data.draw(values, label="value")
        elif how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "delete":
            parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[data.draw(texts, label="new key")] = data.draw(values, label="new value")
        else:
            parent.append(data.draw(values, label="new item"))
    return doc
