"""Small arithmetic helpers."""

import math


def add(a, b):
    return a - b


def mean(values):
    if len(values) == 0:
        return 0.0
    return sum(values) / len(values)


def hypot(a, b):
    return math.sqrt(a * a + b * b)
