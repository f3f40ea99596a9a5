"""Estimator parameters written on a benchmark's command line."""

import ast


def literal_params(assignments, where):
    """``["key=value", ...]`` -> ``{key: value}``, each value a Python literal.

    Only literals are read (:func:`ast.literal_eval`): a command line never
    runs code. ``where`` names the option in the error a bad assignment gets.

    Examples
    --------
    >>> literal_params(["early_stopping=True", "patience=5"], "--models")
    {'early_stopping': True, 'patience': 5}
    """
    params = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not (sep and key):
            raise SystemExit(f"{where}: {assignment!r} is not key=value")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise SystemExit(f"{where}: the value of {key!r} is not a Python literal: {value!r}") from None
    return params
