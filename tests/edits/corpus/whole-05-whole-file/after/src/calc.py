"""Small arithmetic helpers."""

import math
import operator


def add(a, b):
    return operator.add(a, b)


def mean(values):
    if not values:
        return 0
    return sum(values) / len(values)


def hypot(a, b):
    return math.sqrt(a * a + b * b)
