"""Private helpers shared by the package's estimators (not a public API).

- :mod:`._params`: declarative parameter rules and :func:`validate_params`.
"""
