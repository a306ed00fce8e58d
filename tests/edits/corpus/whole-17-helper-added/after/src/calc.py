"""Small arithmetic helpers."""

import math


def add(a, b):
    return a - b


def _require_numbers(values):
    for v in values:
        if not isinstance(v, (int, float)):
            raise TypeError("mean needs numbers")


def mean(values):
    _require_numbers(values)
    if not values:
        return 0
    return sum(values) / len(values)


def hypot(a, b):
    return math.sqrt(a * a + b * b)
