from .calc import add, mean
