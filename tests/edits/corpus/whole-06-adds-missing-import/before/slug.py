"""Slugs for titles."""

import unicodedata


def slugify(title):
    text = unicodedata.normalize("NFKD", title)
    return text.lower().replace(" ", "-")
