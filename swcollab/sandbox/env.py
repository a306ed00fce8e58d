"""The environment a test run gets: no secrets, and no network where the platform allows.

Model-written code runs here, so the environment is built by removing everything that
could be a credential (by name, and URLs with a password in them) rather than by listing
what is safe: a variable we did not foresee is more likely harmless config than a key.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping

# Substrings of a variable's name that mark it as a secret. AUTH is matched unless it
# starts AUTHOR, so GIT_AUTHOR_NAME survives while SSH_AUTH_SOCK and *_AUTH do not.
SECRET_NAME_PATTERN = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|COOKIE|ASKPASS"
    r"|SESSION|AUTH(?!OR)"
)

# Providers and services whose every variable is dropped, secret-looking or not: their
# endpoints and account ids are no business of a test either.
PROVIDER_PREFIXES = (
    "OPENAI_", "ANTHROPIC_", "AWS_", "GITHUB_", "GH_", "GITLAB_", "AZURE_", "GOOGLE_",
    "GCLOUD_", "GCP_", "CLOUDSDK_", "VERTEX", "GEMINI_", "HF_", "HUGGINGFACE", "COHERE_",
    "CO_API", "MISTRAL_", "GROQ_", "TOGETHER_", "DEEPSEEK_", "OPENROUTER_", "LITELLM_",
    "XAI_", "FIREWORKS_", "REPLICATE_", "PERPLEXITY", "VOYAGE_", "NVIDIA_", "DATABRICKS_",
    "CLOUDFLARE_", "CF_", "DIGITALOCEAN_", "HEROKU_", "OLLAMA_", "SWC_", "NPM_CONFIG__AUTH",
)

# Repository-location variables git honours: a test must see its worktree's git, not ours.
GIT_LOCATION_VARS = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX",
})

# Always kept, whatever the rules above say (none of them matches today; this pins it).
SAFE_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ", "TMPDIR",
    "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME", "GOPATH", "GOROOT",
    "GOCACHE", "GOFLAGS", "CARGO_HOME", "RUSTUP_HOME", "NODE_PATH", "JAVA_HOME",
})

# scheme://user:password@host in any value (a DATABASE_URL, a pip index with a login).
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper in SAFE_NAMES or upper.startswith("LC_"):
        return False
    if upper in GIT_LOCATION_VARS:
        return True
    return bool(SECRET_NAME_PATTERN.search(upper)) or upper.startswith(PROVIDER_PREFIXES)


def scrubbed_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default: ``os.environ``) without anything that may be a secret."""
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if not is_secret_name(name) and not _URL_WITH_PASSWORD.search(value)
    }


# Run inside the new network namespace before the test command: a namespace starts with
# its loopback device down, and projects' own tests often serve on 127.0.0.1. Bringing up
# *this namespace's* lo keeps them working while the host's lo stays out of reach.
_LOOPBACK_UP = (
    "import fcntl,os,socket,struct,sys\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "try:\n"
    " r=fcntl.ioctl(s.fileno(),0x8913,struct.pack('16sH14x',b'lo',0))\n"
    " f=struct.unpack('16sH14x',r)[1]|1\n"
    " fcntl.ioctl(s.fileno(),0x8914,struct.pack('16sH14x',b'lo',f))\n"
    "except OSError:\n"
    " pass\n"
    "s.close()\n"
    "try:\n"
    " os.execvp(sys.argv[1],sys.argv[1:])\n"
    "except OSError as e:\n"
    " print(f'[swc: cannot run {sys.argv[1]}: {e.strerror or e}]',flush=True)\n"
    " sys.exit(127)\n"
)


@functools.lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...] | None:
    """The ``unshare`` invocation that gives a new network namespace here, or None.

    Probed once per process: as root ``unshare --net`` works where the kernel allows it;
    other users need a user namespace too (``-r``), which some kernels and containers
    forbid.
    """
    if not sys.platform.startswith("linux"):
        return None
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    candidates = [(unshare, "--net")] if os.geteuid() == 0 else []
    candidates.append((unshare, "--map-root-user", "--net"))
    for prefix in candidates:
        try:
            probe = subprocess.run(
                [*prefix, "--", sys.executable, "-c", _LOOPBACK_UP, "true"],
                capture_output=True, timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


def network_isolation_available() -> bool:
    return _unshare_prefix() is not None


def isolation_warning() -> str | None:
    """The message to show once per run when tests will have network access, else None."""
    if network_isolation_available():
        return None
    return (
        "tests run WITH network access: a network namespace is not available here "
        "(needs Linux and a working `unshare --net`, or `unshare -rn` with user namespaces "
        "enabled)"
    )


def isolated_argv(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """``argv`` wrapped so it runs without network, or None where that is not possible."""
    prefix = _unshare_prefix()
    if prefix is None:
        return None
    return (*prefix, "--", sys.executable, "-c", _LOOPBACK_UP, *argv)
