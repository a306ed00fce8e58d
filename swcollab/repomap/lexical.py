"""Lexical similarity between the task text and each file (a small BM25).

Exact mentions alone rarely name the file to change (design.md: 1 task in 8 at 1,024
tokens); the words of an issue usually do appear in that file, in its identifiers,
comments and messages. Identifiers are split into their snake_case/CamelCase parts so
"parse_header" in code meets "header parsing" in prose.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

MIN_TERM_LEN = 3
MAX_TERM_LEN = 40
# A word that names a definition says more about the file than one in its body.
DEFINITION_NAME_TF = 3
# A word of the file's path (directory or file name) counts like this many occurrences.
PATH_TF = 5
BM25_K1 = 1.2
BM25_B = 0.75

_STOPWORD_TEXT = """
a about above after again against all also an and any are as at be because been before
being below between both but by can cannot could did do does doing down during each
either else few for from further had has have having here how however if in into is it
its itself just like may might more most much must my no nor not now of off on once only
or other our out over own same shall should so some such than that the their them then
there these they this those through to too under until up upon very was way we were what
when where whether which while who whom why will with within without would yet you your
get set use used uses using make makes made new instead still even though thing things
want wants need needs try tries seems seem expected actually currently really happen
happens self cls def return import none true false null nil var let const func fn pass
elif
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(word: str) -> str:
    """Enough stemming for plurals: "queries" meets "query", "headers" meets "header"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=262_144)
def split_identifier(word: str) -> tuple[str, ...]:
    """Search terms of one identifier: its lower-cased parts, plus the whole when compound."""
    parts = [p.lower() for chunk in word.split("_") for p in _CAMEL_PART.findall(chunk)]
    terms = [
        _stem(p) for p in parts if MIN_TERM_LEN <= len(p) <= MAX_TERM_LEN and p not in STOPWORDS
    ]
    whole = word.strip("_").lower()
    if len(parts) > 1 and MIN_TERM_LEN <= len(whole) <= MAX_TERM_LEN:
        terms.append(whole)
    return tuple(terms)


def content_terms(text: str, definition_names: Iterable[str] = ()) -> dict[str, int]:
    """Term frequencies of a file's text, definition names counting extra."""
    terms: Counter[str] = Counter()
    for word, count in Counter(WORD.findall(text)).items():
        for term in split_identifier(word):
            terms[term] += count
    for name in definition_names:
        for term in split_identifier(name):
            terms[term] += DEFINITION_NAME_TF
    return dict(terms)


def query_terms(text: str) -> set[str]:
    return {term for word in WORD.findall(text) for term in split_identifier(word)}


_PROSE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def compound_terms(text: str) -> set[str]:
    """Each pair of adjacent words of ``text`` joined: prose writes "ID tracking" or
    "block reference" where code writes ``idtracking`` or ``BlockReference``."""
    words = [w.lower() for w in _PROSE_WORD.findall(text)]
    return {
        a + b
        for a, b in itertools.pairwise(words)
        if a not in STOPWORDS
        and b not in STOPWORDS
        and 2 * MIN_TERM_LEN <= len(a + b) <= MAX_TERM_LEN
    }


def path_terms(path: str) -> set[str]:
    return {term for word in WORD.findall(path) for term in split_identifier(word)}


def bm25(
    postings: Mapping[str, Mapping[int, int]],
    doc_lengths: list[int],
    *,
    k1: float = BM25_K1,
    b: float = BM25_B,
) -> dict[int, float]:
    """BM25 score of each document having at least one query term.

    ``postings`` maps each query term to {document index: term frequency}.
    """
    n_docs = len(doc_lengths)
    if not n_docs:
        return {}
    avg_len = (sum(doc_lengths) / n_docs) or 1.0
    scores: dict[int, float] = {}
    for posting in postings.values():
        df = len(posting)
        if not df:
            continue
        idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        for doc, tf in posting.items():
            norm = k1 * (1.0 - b + b * doc_lengths[doc] / avg_len)
            scores[doc] = scores.get(doc, 0.0) + idf * tf * (k1 + 1.0) / (tf + norm)
    return scores
