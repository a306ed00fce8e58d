def area(w, h):
    total = w * h
    return total


def volume(w, h, d):
    total = w * h
    return total * d
