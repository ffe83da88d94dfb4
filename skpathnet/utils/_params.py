"""Declarative parameter checks: a table of rules per estimator, one helper to apply it.

An estimator lists its parameters' rules in ``_parameter_constraints``
(``{name: rule}``; a subclass merges its own into its parent's with
``{**Parent._parameter_constraints, ...}``) and calls
:func:`validate_params` at the start of ``fit``; rules that involve several
parameters stay in a short check of their own after it. Every rule refuses
``bool`` where a number is expected (``True`` is no layer count) and NaN or
infinity where a float is, and every message reads ``"<name> must be <what>;
got <value>."``.
"""

import math
import numbers
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

__all__ = ["AnyOf", "Boolean", "Instance", "Integer", "IntegerTuple", "InvalidParameterError", "Options",
           "Real", "check_param", "validate_params"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value.

    Both a :class:`ValueError` and a :class:`TypeError`, so that callers
    catching either (as scikit-learn's own estimators allow) see it.
    """


def _is_number(value, kind):
    return isinstance(value, kind) and not isinstance(value, (bool, np.bool_))


def _bound(low, high, low_open, high_open):
    """``"in [0, 1)"``, ``"> 0"``... or a word for the usual one-sided bounds."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        if low == 0:
            return "positive" if low_open else "non-negative"
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


@dataclass(frozen=True)
class Integer:
    """An integer (not a bool) within ``[low, high]``; ``none``: None allowed too.

    ``note`` is added to the message, e.g. why the bound is there.
    """

    low: Optional[int] = None
    high: Optional[int] = None
    none: bool = False
    note: str = ""

    def accepts(self, value):
        if value is None:
            return self.none
        return (_is_number(value, numbers.Integral)
                and (self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def describe(self):
        if self.low == 1 and self.high is None:
            what = "a positive integer"
        elif self.low == 0 and self.high is None:
            what = "a non-negative integer"
        else:
            what = f"an integer {_bound(self.low, self.high, False, False)}".rstrip()
        return ("None or " if self.none else "") + what + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Real:
    """A finite real number (ints too, not bools) within the bounds; ``none``: None too."""

    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False

    def accepts(self, value):
        if value is None:
            return self.none
        if not _is_number(value, numbers.Real) or not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open
                                      else value > self.high):
            return False
        return True

    def describe(self):
        bound = _bound(self.low, self.high, self.low_open, self.high_open)
        if bound in ("positive", "non-negative"):
            what = f"a {bound} finite float"
        elif self.low is not None and self.high is not None:
            what = f"a float {bound}"
        else:
            what = f"a finite float {bound}".rstrip()
        return ("None or " if self.none else "") + what


@dataclass(frozen=True)
class Options:
    """One of ``values`` (compared with ``==`` and the same type); ``notes``: a gloss each."""

    values: Tuple
    notes: Tuple = ()

    def accepts(self, value):
        return any(type(value) is type(option) and value == option for option in self.values)

    def describe(self):
        notes = self.notes or ("",) * len(self.values)
        items = [(f'"{v}"' if isinstance(v, str) else repr(v)) + (f" ({n})" if n else "")
                 for v, n in zip(self.values, notes)]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class Boolean:
    """True or False (numpy booleans too)."""

    def accepts(self, value):
        return isinstance(value, (bool, np.bool_))

    @staticmethod
    def describe():
        return "True or False"


@dataclass(frozen=True)
class Instance:
    """An instance of one of ``types`` (or None with ``none``), described as ``what``.

    A class given where its instance is expected gets a hint ("pass an
    instance, e.g. SpecAugment()").
    """

    types: Tuple[type, ...]
    what: str
    none: bool = False

    def accepts(self, value):
        return (value is None and self.none) or isinstance(value, self.types)

    def describe(self):
        return self.what

    def got(self, value):
        if isinstance(value, type) and value in self.types:
            name = value.__name__
            return f"the class {name}; pass an instance, e.g. {name}()"
        return f"{value!r} ({type(value).__name__})"


@dataclass(frozen=True)
class IntegerTuple:
    """A non-empty tuple or list of integers >= ``low``; of ``length`` items if given."""

    low: int = 1
    length: Optional[int] = None

    def accepts(self, value):
        return (isinstance(value, (tuple, list)) and len(value) > 0
                and (self.length is None or len(value) == self.length)
                and all(Integer(self.low).accepts(v) for v in value))

    def describe(self):
        items = f"{Integer(self.low).describe()[2:]}s"
        if self.length is None:
            return f"a non-empty tuple of {items}"
        return f"a tuple of {self.length} {items}"


@dataclass(frozen=True)
class AnyOf:
    """A value that one of ``rules`` accepts."""

    rules: Tuple

    def accepts(self, value):
        return any(rule.accepts(value) for rule in self.rules)

    def describe(self):
        return " or ".join(rule.describe() for rule in self.rules)


def validate_params(estimator, constraints):
    """Check each parameter of ``estimator`` named in ``constraints`` against its rule.

    Parameters
    ----------
    estimator : object
        Read with ``getattr(estimator, name)``.
    constraints : dict of str to rule
        :class:`Integer`, :class:`Real`, :class:`Options`, :class:`Boolean`,
        :class:`Instance` or :class:`IntegerTuple`.

    Raises
    ------
    InvalidParameterError
        For the first parameter (in table order) that breaks its rule:
        ``"<name> must be <what>; got <value>."``.
    """
    for name, rule in constraints.items():
        check_param(name, getattr(estimator, name), rule)


def check_param(name, value, rule):
    """Check one value against its rule (for a function's argument; see :func:`validate_params`).

    Returns
    -------
    value : object
        ``value``, unchanged.

    Raises
    ------
    InvalidParameterError
        ``"<name> must be <what>; got <value>."``.
    """
    if not rule.accepts(value):
        got = rule.got(value) if hasattr(rule, "got") else repr(value)
        raise InvalidParameterError(f"{name} must be {rule.describe()}; got {got}.")
    return value
