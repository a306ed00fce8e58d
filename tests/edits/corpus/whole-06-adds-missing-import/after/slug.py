"""Slugs for titles."""

import unicodedata
import re


def slugify(title):
    text = unicodedata.normalize("NFKD", title)
    text = re.sub(r"[^a-z0-9]+", "-", text.lower())
    return text.strip("-")
