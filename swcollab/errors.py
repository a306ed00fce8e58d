"""The one exception hierarchy of swc.

Every error a user can cause or meet is an ``SwcError`` carrying a message meant for
people and the exit code scripts rely on. The CLI prints the message and exits with the
code; a traceback reaching the user is a bug.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_FIXED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_BUDGET = 4
EXIT_INTERRUPTED = 130

# (code, meaning): the table in ``swc --help`` and docs/reference/exit-codes.md
EXIT_CODE_TABLE = (
    (EXIT_OK, "success (for swc fix: fixed)"),
    (EXIT_NOT_FIXED, "ran but did not fix"),
    (EXIT_USAGE, "usage or configuration error"),
    (
        EXIT_ENVIRONMENT,
        "environment error: no git repository, credentials, extra, network, sandbox",
    ),
    (EXIT_BUDGET, "budget exhausted"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)

EXIT_CODES_HELP = (
    "Exit codes: 0 fixed (or success), 1 ran but did not fix, 2 usage or configuration "
    "error, 3 environment error (not a git repository, missing credentials, missing "
    "extra, network, no working sandbox), 4 budget exhausted, 130 interrupted."
)


class SwcError(Exception):
    """Base of all errors shown to the user; ``message`` is what they read."""

    exit_code: int = EXIT_NOT_FIXED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(SwcError):
    """Bad flags or arguments."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file or environment variable holds something invalid."""


class EnvironmentProblem(SwcError):
    """Something outside swc is missing: a git repository, a credential, an extra, network."""

    exit_code = EXIT_ENVIRONMENT


class NotAGitRepository(EnvironmentProblem):
    pass


class MissingCredentials(EnvironmentProblem):
    pass


class MissingExtra(EnvironmentProblem):
    pass


class ModelError(SwcError):
    """A provider refused or failed a call after the retries."""

    exit_code = EXIT_ENVIRONMENT


class GitHubError(EnvironmentProblem):
    pass


class BudgetExhausted(SwcError):
    """The next call could cost more than what is left of the budget; it was not made."""

    exit_code = EXIT_BUDGET

    def __init__(self, message: str, *, spent: float = 0.0, limit: float = 0.0) -> None:
        super().__init__(message)
        self.spent = spent
        self.limit = limit


class Interrupted(SwcError):
    """Ctrl-C or SIGTERM: the run was stopped and cleaned up."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled exactly like Ctrl-C.

    A ``KeyboardInterrupt`` on purpose: libraries that catch ``Exception`` (litellm wraps
    what it catches into a retryable connection error) must not swallow it.
    """


class LedgerError(EnvironmentProblem):
    """The run ledger or a cache database cannot be opened or is damaged."""


class SandboxUnavailable(EnvironmentProblem):
    """Model-written code would have to run without the OS sandbox: swc refuses."""


class TestsCannotRun(EnvironmentProblem):
    """The project's tests cannot run or be collected here: no patch could be judged, so
    the run stops before any model call."""

    __test__ = False  # not a pytest test class, despite the name
