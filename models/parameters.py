"""Model parameters with units and provenance.

Every number that enters a larvasim neuron model is a :class:`Parameter`: a
name, a value (a Brian2 quantity, or a plain number for dimensionless
parameters), the unit the value is written in, the source it comes from (a
citation, a repository path, or ``"free parameter"``) and a one-line
description.  A :class:`ParameterSet` is an ordered, immutable collection of
parameters that can be printed as a table, overridden (returning a new set),
serialised to JSON-compatible dictionaries and turned into a Brian2 namespace.

Examples
--------
>>> from brian2 import mV, ms
>>> ps = ParameterSet([
...     Parameter("tau_m", 20 * ms, "ms", "Shiu et al. 2024", "membrane time constant"),
...     Parameter("v_th", -45 * mV, "mV", "Shiu et al. 2024", "spike threshold"),
... ])
>>> ps2 = ps.override(tau_m=10 * ms)
>>> ps2["tau_m"].source
'user override (was: Shiu et al. 2024)'
"""

from __future__ import annotations

import ast
import difflib
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
from brian2 import Quantity, get_dimensions
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

__all__ = [
    "Parameter",
    "ParameterSet",
    "ParameterDimensionError",
    "UnknownParameterError",
    "parse_unit",
    "OVERRIDE_PREFIX",
]

#: Prefix of the ``source`` of a parameter that was overridden by the user.
OVERRIDE_PREFIX = "user override (was: "

_DIMENSIONLESS_UNITS = ("1", "")


class UnknownParameterError(KeyError, ValueError):
    """A parameter name that does not exist in a :class:`ParameterSet`.

    Subclasses both :class:`KeyError` (mapping look-ups) and
    :class:`ValueError` (``override`` arguments).
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ParameterDimensionError(ValueError):
    """A parameter value whose physical dimension does not match its unit."""


def parse_unit(unit: str) -> Any:
    """Parse a unit string such as ``"mV"``, ``"nS"``, ``"mV/ms"`` or ``"1"``.

    Only unit names known to Brian2, ``*``, ``/``, ``**`` with integer
    exponents and parentheses are accepted; nothing is evaluated.

    Parameters
    ----------
    unit : str
        Unit expression; ``"1"`` (or ``""``) means dimensionless.

    Returns
    -------
    brian2.Unit or brian2.Quantity or int
        The unit (``1`` for dimensionless).

    Raises
    ------
    ValueError
        If the string is not a valid unit expression.
    """
    if not isinstance(unit, str):
        raise ValueError(f"unit must be a string, got {unit!r}")
    text = unit.strip()
    if text in _DIMENSIONLESS_UNITS:
        return 1
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"invalid unit expression {unit!r}") from exc

    def evaluate(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in DEFAULT_UNITS:
                close = difflib.get_close_matches(node.id, list(DEFAULT_UNITS), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ValueError(f"unknown unit {node.id!r} in {unit!r}{hint}")
            return DEFAULT_UNITS[node.id]
        if isinstance(node, ast.BinOp):
            left = evaluate(node.left)
            if isinstance(node.op, ast.Pow):
                exponent = _integer_constant(node.right)
                if exponent is None:
                    raise ValueError(f"unit exponents must be integers in {unit!r}")
                return left**exponent
            right = evaluate(node.right)
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                return left / right
        if isinstance(node, ast.Constant) and node.value == 1 and not isinstance(node.value, bool):
            return 1
        raise ValueError(f"invalid unit expression {unit!r}")

    return evaluate(tree.body)


def _integer_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _integer_constant(node.operand)
        return None if inner is None else -inner
    return None


def _dimension_name(dim: Any) -> str:
    """Human-readable name of a Brian2 dimension (e.g. ``'volt'``)."""
    if dim is DIMENSIONLESS:
        return "dimensionless"
    try:
        return repr(get_unit(dim))
    except Exception:  # pragma: no cover - every Brian2 dimension has a unit
        return str(dim)


def _describe_value(value: Any) -> str:
    if isinstance(value, Quantity):
        return f"{value!s} ({_dimension_name(get_dimensions(value))})"
    return f"plain number {value!r}"


class Parameter:
    """One model parameter: value, unit and provenance.

    The value is stored as a magnitude in ``unit``, so serialising with
    :meth:`to_dict` and reading back with :meth:`from_dict` is exact.

    Parameters
    ----------
    name : str
        Identifier, used as the Brian2 namespace name (e.g. ``"tau_m"``).
    value : brian2.Quantity or float or int
        The value.  Must have the dimension of ``unit``; a plain number is
        accepted only for a dimensionless unit (``"1"``).
    unit : str
        Unit the value is expressed in for display and serialisation, e.g.
        ``"mV"`` or ``"nS"``; ``"1"`` for dimensionless parameters.
    source : str
        Where the value comes from: a citation (``"Shiu et al. 2024, Nature
        634:210"``), a code location, ``"free parameter"``, or
        ``"unverified: ..."``.
    description : str
        One-line description.

    Raises
    ------
    ParameterDimensionError
        If ``value`` does not have the dimension of ``unit``.
    ValueError
        For an invalid name, unit, non-scalar or NaN value, or an empty or
        multi-line source/description.
    """

    __slots__ = ("_name", "_magnitude", "_unit", "_unit_obj", "_source", "_description")

    def __init__(self, name: str, value: Any, unit: str, source: str, description: str):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"parameter name must be a Python identifier, got {name!r}")
        unit_obj = parse_unit(unit)
        for label, text in (("source", source), ("description", description)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"parameter {name!r}: {label} must be a non-empty string")
            if "\n" in text:
                raise ValueError(f"parameter {name!r}: {label} must be a single line")
        self._name = name
        self._unit = "1" if unit.strip() in _DIMENSIONLESS_UNITS else unit.strip()
        self._unit_obj = unit_obj
        self._source = source
        self._description = description
        self._magnitude = self._to_magnitude(value)

    # -- construction helpers -------------------------------------------------
    def _to_magnitude(self, value: Any) -> float | int:
        expected = get_dimensions(self._unit_obj)
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"parameter {self._name!r}: a boolean is not a valid value")
        if isinstance(value, Quantity):
            if np.ndim(value) != 0:
                raise ValueError(f"parameter {self._name!r}: value must be a scalar, got shape {np.shape(value)}")
            if get_dimensions(value) != expected:
                raise ParameterDimensionError(
                    f"parameter {self._name!r} expects a value in {self._unit!r} "
                    f"({_dimension_name(expected)}), got {_describe_value(value)}"
                )
            magnitude: float | int = float(np.asarray(value / self._unit_obj))
        elif isinstance(value, (numbers.Real, np.integer, np.floating)):
            if expected != DIMENSIONLESS:
                raise ParameterDimensionError(
                    f"parameter {self._name!r} expects a value in {self._unit!r} "
                    f"({_dimension_name(expected)}), got {_describe_value(value)}; "
                    f"multiply by a Brian2 unit, e.g. {value!r}*{self._unit}"
                )
            magnitude = int(value) if isinstance(value, (numbers.Integral, np.integer)) else float(value)
        else:
            raise ValueError(f"parameter {self._name!r}: value must be a number or a Brian2 quantity, got {value!r}")
        if isinstance(magnitude, float) and math.isnan(magnitude):
            raise ValueError(f"parameter {self._name!r}: value is NaN")
        return magnitude

    # -- read-only attributes ---------------------------------------------------
    @property
    def name(self) -> str:
        """Parameter name (a Python identifier)."""
        return self._name

    @property
    def value(self) -> Any:
        """Value as a Brian2 quantity (plain number if dimensionless)."""
        if self._unit == "1":
            return self._magnitude
        return self._magnitude * self._unit_obj

    @property
    def magnitude(self) -> float | int:
        """Value expressed as a number in :attr:`unit`."""
        return self._magnitude

    @property
    def unit(self) -> str:
        """Unit string (``"1"`` for dimensionless)."""
        return self._unit

    @property
    def dimensions(self) -> Any:
        """Brian2 dimensions of the value."""
        return get_dimensions(self._unit_obj)

    @property
    def source(self) -> str:
        """Provenance of the value."""
        return self._source

    @property
    def description(self) -> str:
        """One-line description."""
        return self._description

    # -- derived parameters ------------------------------------------------------
    def with_value(self, value: Any, source: str | None = None) -> Parameter:
        """Return a copy with a new value.

        Parameters
        ----------
        value : brian2.Quantity or float or int
            New value, same dimension as the parameter.
        source : str, optional
            New source; by default ``"user override (was: <old source>)"``
            (the original source is kept when overriding an override).

        Returns
        -------
        Parameter
        """
        if source is None:
            source = self._source if self._source.startswith(OVERRIDE_PREFIX) else f"{OVERRIDE_PREFIX}{self._source})"
        return Parameter(self._name, value, self._unit, source, self._description)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable ``{"value", "unit", "source", "description"}``.

        ``value`` is the magnitude in ``unit``.
        """
        return {
            "value": self._magnitude,
            "unit": self._unit,
            "source": self._source,
            "description": self._description,
        }

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Parameter:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        name : str
            Parameter name.
        data : mapping
            With keys ``value`` (number in ``unit``), ``unit``, ``source`` and
            ``description``.
        """
        missing = {"value", "unit", "source", "description"} - set(data)
        if missing:
            raise ValueError(f"parameter {name!r}: missing keys {sorted(missing)}")
        unit_obj = parse_unit(data["unit"])
        magnitude = data["value"]
        if isinstance(magnitude, bool) or not isinstance(magnitude, (numbers.Real, np.integer, np.floating)):
            raise ValueError(f"parameter {name!r}: value must be a number, got {magnitude!r}")
        dimensionless = not isinstance(unit_obj, Quantity)
        value = magnitude if dimensionless else magnitude * unit_obj
        param = cls(name, value, data["unit"], data["source"], data["description"])
        param._magnitude = param._magnitude if dimensionless else float(magnitude)  # exact round trip
        return param

    # -- comparison / display ----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Parameter):
            return NotImplemented
        return (
            self._name == other._name
            and self._unit == other._unit
            and self._magnitude == other._magnitude
            and self._source == other._source
            and self._description == other._description
        )

    def __hash__(self) -> int:
        return hash((self._name, self._unit, self._magnitude, self._source, self._description))

    def format_value(self) -> str:
        """Value and unit as text, e.g. ``'-52 mV'``."""
        text = f"{self._magnitude:g}"
        return text if self._unit == "1" else f"{text} {self._unit}"

    def __repr__(self) -> str:
        return (
            f"Parameter({self._name!r}, {self.format_value()!r}, "
            f"source={self._source!r}, description={self._description!r})"
        )


class ParameterSet(Mapping[str, Parameter]):
    """Ordered, immutable collection of :class:`Parameter` objects.

    Behaves as a read-only mapping ``name -> Parameter`` (insertion order).
    Modifying methods return new sets.

    Parameters
    ----------
    parameters : iterable of Parameter
        Parameters in display order; names must be unique.
    name : str, optional
        Label shown in the table header (e.g. the model name).

    Raises
    ------
    ValueError
        On duplicate names or non-:class:`Parameter` items.
    """

    __slots__ = ("_params", "_name")

    def __init__(self, parameters: Iterable[Parameter] = (), *, name: str = ""):
        params: dict[str, Parameter] = {}
        for p in parameters:
            if not isinstance(p, Parameter):
                raise ValueError(f"ParameterSet items must be Parameter objects, got {p!r}")
            if p.name in params:
                raise ValueError(f"duplicate parameter name {p.name!r}")
            params[p.name] = p
        self._params = params
        self._name = name

    # -- mapping protocol ---------------------------------------------------------
    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._params[name]
        except KeyError:
            raise self._unknown(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParameterSet):
            return NotImplemented
        return list(self._params.items()) == list(other._params.items())

    __hash__ = None  # type: ignore[assignment]

    @property
    def name(self) -> str:
        """Label of the set."""
        return self._name

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in order."""
        return tuple(self._params)

    def value(self, name: str) -> Any:
        """Value of parameter ``name`` (Brian2 quantity or plain number)."""
        return self[name].value

    def _unknown(self, name: object) -> UnknownParameterError:
        close = difflib.get_close_matches(str(name), list(self._params), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        label = f" {self._name!r}" if self._name else ""
        return UnknownParameterError(
            f"unknown parameter {name!r} in parameter set{label}{hint} "
            f"(known: {', '.join(self._params)})"
        )

    # -- derived sets ---------------------------------------------------------------
    def override(self, **values: Any) -> ParameterSet:
        """Return a copy with some values replaced.

        Overridden entries get the source ``"user override (was: <old
        source>)"``.

        Parameters
        ----------
        **values
            ``name=value`` pairs; values must have the dimension of the
            parameter's unit (a plain number only for dimensionless ones).

        Returns
        -------
        ParameterSet

        Raises
        ------
        UnknownParameterError
            (a :class:`ValueError`) for a name not in the set, naming close
            matches.
        ParameterDimensionError
            (a :class:`ValueError`) for a value of the wrong dimension, naming
            the parameter and its expected unit.
        """
        for key in values:
            if key not in self._params:
                raise self._unknown(key)
        return ParameterSet(
            (p.with_value(values[p.name]) if p.name in values else p for p in self._params.values()),
            name=self._name,
        )

    # -- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-serialisable ``{name: {value, unit, source, description}}``.

        ``value`` is the magnitude in ``unit``; order is preserved.
        """
        return {name: p.to_dict() for name, p in self._params.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]], *, name: str = "") -> ParameterSet:
        """Inverse of :meth:`to_dict`."""
        return cls((Parameter.from_dict(key, entry) for key, entry in data.items()), name=name)

    def namespace(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Values as a dict for a Brian2 ``namespace``.

        Parameters
        ----------
        names : iterable of str, optional
            Restrict to these parameters (default: all).

        Returns
        -------
        dict
            ``{name: brian2.Quantity or number}``.
        """
        selected = self._params if names is None else [self[n].name for n in names]
        return {n: self._params[n].value for n in selected}

    # -- display ----------------------------------------------------------------------
    def table(self) -> str:
        """Parameters as a plain-text table (name, value, unit, source, description)."""
        header = ("name", "value", "unit", "source", "description")
        rows = [(p.name, f"{p.magnitude:g}", p.unit, p.source, p.description) for p in self._params.values()]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def fmt(row: tuple[str, ...]) -> str:
            cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]),
                     row[3].ljust(widths[3]), row[4]]
            return "  ".join(cells).rstrip()

        lines = []
        if self._name:
            lines.append(f"ParameterSet {self._name!r} ({len(self)} parameters)")
        lines.append(fmt(header))
        lines.append("  ".join("-" * w for w in widths))
        lines.extend(fmt(r) for r in rows)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        label = f"{self._name!r}, " if self._name else ""
        return f"ParameterSet({label}{', '.join(f'{p.name}={p.format_value()}' for p in self._params.values())})"
