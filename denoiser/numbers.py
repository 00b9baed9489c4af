"""What counts as a number where callers and API calls pass one: a level, a seed, a count of passes or steps.

Python counts True as the int 1, and a JSON API can send "8", None or a list where a number
belongs; each of these gets a message, never a silent meaning.
"""

from __future__ import annotations

import math

import numpy as np


def is_number(value: object) -> bool:
    """A real number, Python's or NumPy's, int or float (NaN too: ranges refuse it), never a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def is_finite(value: object) -> bool:
    """A number that is neither infinite nor NaN (an int always is, however large: no float holds 10**400)."""
    return is_number(value) and (isinstance(value, (int, np.integer)) or math.isfinite(value))


def is_whole(value: object, low: float, high: float) -> bool:
    """A whole number in [low, high]: 8 and 8.0 are, True, "8" and NaN are not."""
    return is_number(value) and low <= value <= high and float(value).is_integer()
