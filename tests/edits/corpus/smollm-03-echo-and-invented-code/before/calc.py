import math


def add(a, b):
    return a - b


def mean(values):
    if not values:
        return 0
    return sum(values) / len(values)


def hypot(a, b):
    return math.sqrt(a * a + b * b)
