"""The environment a test run gets: no secrets, and what to mask if one shows up anyway.

Model-written code runs here, so the environment is built by removing everything that
could be a credential (by name, and URLs with a password in them) rather than by listing
what is safe: a variable we did not foresee is more likely harmless config than a key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from ..gitrepo import GIT_LOCATION_VARS

# Substrings of a variable's name that mark it as a secret. AUTH is matched unless it
# starts AUTHOR, so GIT_AUTHOR_NAME survives while SSH_AUTH_SOCK and *_AUTH do not.
SECRET_NAME_PATTERN = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|COOKIE|ASKPASS"
    r"|SESSION|AUTH(?!OR)"
)

# Providers and services whose every variable is dropped, secret-looking or not: their
# endpoints and account ids are no business of a test either.
PROVIDER_PREFIXES = (
    "OPENAI_",
    "ANTHROPIC_",
    "AWS_",
    "GITHUB_",
    "GH_",
    "GITLAB_",
    "AZURE_",
    "GOOGLE_",
    "GCLOUD_",
    "GCP_",
    "CLOUDSDK_",
    "VERTEX",
    "GEMINI_",
    "HF_",
    "HUGGINGFACE",
    "COHERE_",
    "CO_API",
    "MISTRAL_",
    "GROQ_",
    "TOGETHER_",
    "DEEPSEEK_",
    "OPENROUTER_",
    "LITELLM_",
    "XAI_",
    "FIREWORKS_",
    "REPLICATE_",
    "PERPLEXITY",
    "VOYAGE_",
    "NVIDIA_",
    "DATABRICKS_",
    "CLOUDFLARE_",
    "CF_",
    "DIGITALOCEAN_",
    "HEROKU_",
    "OLLAMA_",
    "SWC_",
    "NPM_CONFIG__AUTH",
)

# Always kept, whatever the rules above say (none of them matches today; this pins it).
SAFE_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TERM",
        "TZ",
        "TMPDIR",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYTHONPATH",
        "PYTHONHOME",
        "GOPATH",
        "GOROOT",
        "GOCACHE",
        "GOFLAGS",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "NODE_PATH",
        "JAVA_HOME",
    }
)

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


# A removed value shorter than this is not masked in output: "true", "1" or a short
# region name would turn ordinary words into "***".
MASK_MIN_LENGTH = 8
MASK = "***"


def masked_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values the scrubber removes that are long enough to mask, longest first.

    Left out: git's location variables (paths, not secrets) and any value a kept
    variable also holds (a CA bundle path under AWS_CA_BUNDLE and SSL_CERT_FILE): the
    tests see it anyway, and masking it would only garble their output.
    """
    source = os.environ if environ is None else environ
    kept = set(scrubbed_env(source).values())
    values = {
        value.strip()
        for name, value in source.items()
        if name.upper() not in GIT_LOCATION_VARS
        and (is_secret_name(name) or _URL_WITH_PASSWORD.search(value))
        and len(value.strip()) >= MASK_MIN_LENGTH
        and value not in kept
    }
    return tuple(sorted(values, key=len, reverse=True))


def mask_secrets(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``values`` replaced by ``***``."""
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text
