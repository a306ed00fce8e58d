"""swc: strong-weak model collaboration for fixing issues in git repositories."""

__version__ = "0.1.0"
