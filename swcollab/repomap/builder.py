"""``build_repo_map`` step by step: list, look up the cache, parse the rest, rank, render."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NotAGitRepository, UsageError
from ..gitrepo import find_repo
from ..repofiles import read_regular
from . import lexical
from .cache import DB_NAME, TagCache
from .files import Listing, SourceFile, changed_since, list_source_files, restrict_paths
from .focus import normalize_path
from .graph import Graph, build_graph, graph_key
from .rank import Ranking, RankInput, definition_scores, rank
from .records import Focus, MapStats, RankedDefinition, RankedFile, RepoMap
from .render import Item, fit, token_counter
from .tags import STATUS_BINARY, Definition, FileTags, extract_tags, query_version

# Parse in worker processes when this many files are new: below it, starting them costs
# more than it saves.
PARALLEL_MIN_FILES = 150
MAX_WORKERS = 4
# Files whose definitions are looked at first; more (x4) when the budget is not filled.
FIRST_CANDIDATES = 64

Key = tuple[str, str, str]  # (blob sha, language, query version)


@dataclass
class _Mapped:
    """The files that made it into the map, as parallel lists."""

    paths: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    blob_ids: list[int] = field(default_factory=list)
    doc_lengths: list[int] = field(default_factory=list)
    fresh: dict[int, FileTags] = field(default_factory=dict)  # parsed in this run, by index
    loaded: dict[int, list[Definition]] = field(default_factory=dict)

    def load_definitions(self, files: Sequence[int], cache: TagCache) -> None:
        """Definitions of ``files`` (only the files that may be shown are ever loaded)."""
        wanted = [f for f in files if f not in self.loaded and f not in self.fresh]
        rows = cache.load_definitions(self.blob_ids[f] for f in wanted) if wanted else {}
        for f in files:
            if f in self.fresh:
                self.loaded[f] = self.fresh[f].definitions
            elif f not in self.loaded:
                self.loaded[f] = rows.get(self.blob_ids[f], [])


@dataclass
class _Run:
    stages: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    parsed: int = 0
    hits: int = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - start


def build(
    root: Path,
    focus: Focus,
    *,
    tokens: int,
    model: str | None,
    max_file_size: int,
    state_dir: Path | None,
    paths: Sequence[str] | None,
    branch_base: str | None,
) -> RepoMap:
    if tokens <= 0:
        raise UsageError(f"the token budget must be a positive number, not {tokens}")
    repo = find_repo(root)
    if repo is None:
        raise NotAGitRepository(f"{root} is not inside a git repository")
    top = repo.root  # of the worktree containing ``root``; a subdirectory maps it all
    run = _Run()
    with run.stage("list"):
        prefixes = restrict_paths(top, paths) if paths is not None else None
        listing = list_source_files(top, max_file_size=max_file_size, prefixes=prefixes)
    db_path = (state_dir or repo.state_dir) / DB_NAME
    extra = _branch_files(top, branch_base, run)
    cache = TagCache(db_path)
    try:
        if cache.warning:
            run.warnings.append(cache.warning)
        try:
            result, mapped, skipped = _with_cache(
                top, listing, cache, run, focus, extra, tokens, model
            )
        except sqlite3.DatabaseError as exc:
            cache = _rebuilt(cache, db_path, exc, run)
            result, mapped, skipped = _with_cache(
                top, listing, cache, run, focus, extra, tokens, model
            )
        try:
            cache.maintain(top)
        except sqlite3.DatabaseError as exc:  # pruning is housekeeping: never fatal
            run.warnings.append(f"tag cache pruning skipped: {exc}")
    finally:
        cache.close()
    text, used, files, shown, _definitions = result
    stats = MapStats(
        files_total=listing.tracked,
        files_parsed=run.parsed,
        cache_hits=run.hits,
        languages=dict(Counter(mapped.languages)),
        seconds_per_stage={k: round(v, 4) for k, v in run.stages.items()},
        definitions=result[4],
        skipped=dict(skipped),
    )
    if not mapped.paths:
        run.warnings.append(f"no supported source files to map (tracked files: {listing.tracked})")
    return RepoMap(
        text=text, tokens=used, files=files, stats=stats, warnings=tuple(run.warnings), shown=shown
    )


def _with_cache(
    top: Path,
    listing: Listing,
    cache: TagCache,
    run: _Run,
    focus: Focus,
    extra: Sequence[str],
    tokens: int,
    model: str | None,
) -> tuple[tuple[str, int, tuple[RankedFile, ...], tuple[str, ...], int], _Mapped, Counter[str]]:
    mapped, skipped = _collect(top, listing, cache, run)
    with run.stage("graph"):
        graph = _graph(mapped, cache)
    result = _rank_and_render(top, mapped, graph, focus, extra, cache, run, tokens, model)
    definitions = sum(len(names) for names in graph.file_names)
    return (*result, definitions), mapped, skipped


def _graph(mapped: _Mapped, cache: TagCache) -> Graph:
    """The reference graph: from the cache when the same blobs were mapped before."""
    key = graph_key(mapped.paths, mapped.blob_ids)
    raw = cache.get_graph(key)
    if raw is not None:
        try:
            return Graph.from_bytes(raw)
        except (ValueError, EOFError, TypeError, KeyError):
            pass  # damaged: rebuilt below
    stored = cache.load_references(
        mapped.blob_ids[i] for i in range(len(mapped.paths)) if i not in mapped.fresh
    )
    names: list[list[str]] = []
    references: list[dict[str, int]] = []
    for i, blob_id in enumerate(mapped.blob_ids):
        if i in mapped.fresh:
            tags = mapped.fresh[i]
            names.append([d.name for d in tags.definitions])
            references.append(tags.references)
        else:
            file_names, refs = stored.get(blob_id, ([], {}))
            names.append(file_names)
            references.append(refs)
    graph = build_graph(names, references)
    cache.put_graph(key, graph.to_bytes())
    return graph


def _rebuilt(cache: TagCache, path: Path, exc: Exception, run: _Run) -> TagCache:
    cache.close()
    for suffix in ("", "-wal", "-shm"):
        stale = Path(str(path) + suffix)
        if stale.exists():
            stale.replace(Path(str(path) + suffix + ".broken"))
    run.warnings.append(
        f"the tag cache at {path} was damaged ({exc}); rebuilt it "
        f"(old file kept as {path.name}.broken)"
    )
    return TagCache(path)


def _collect(
    root: Path, listing: Listing, cache: TagCache, run: _Run
) -> tuple[_Mapped, Counter[str]]:
    run.parsed = run.hits = 0
    keys = {f.path: (f.sha, f.language, query_version(f.language)) for f in listing.files}
    with run.stage("cache"):
        cached = cache.lookup(set(keys.values()))
    missing: dict[Key, SourceFile] = {}
    for f in listing.files:
        if keys[f.path] not in cached:
            missing.setdefault(keys[f.path], f)
    with run.stage("parse"):
        parsed = _parse_all(root, missing, run)
        run.parsed = len(parsed)
    with run.stage("cache"):
        ids = cache.store([(*key, tags) for key, tags in parsed.items()])
    skipped = Counter(listing.skipped)
    mapped = _Mapped()
    for f in listing.files:
        key = keys[f.path]
        if key in cached:
            run.hits += 1
            row = cached[key]
            status, blob_id, doc_len, tags = row.status, row.blob_id, row.doc_len, None
        elif key in parsed:
            tags = parsed[key]
            status, blob_id, doc_len = tags.status, ids[key], sum(tags.terms.values())
        else:
            skipped["unreadable"] += 1
            continue
        if status == STATUS_BINARY:
            skipped["binary"] += 1
            continue
        if tags is not None:
            mapped.fresh[len(mapped.paths)] = tags
        mapped.paths.append(f.path)
        mapped.languages.append(f.language)
        mapped.blob_ids.append(blob_id)
        mapped.doc_lengths.append(doc_len)
    return mapped, skipped


def parse_file(root: Path, path: str, language: str) -> FileTags | None:
    source = read_regular(root, path)  # never through a symlink (repofiles)
    if source is None:
        return None
    return extract_tags(language, source)


def _parse_all(root: Path, missing: dict[Key, SourceFile], run: _Run) -> dict[Key, FileTags]:
    keys = list(missing)
    jobs = [(root, missing[k].path, missing[k].language) for k in keys]
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    results: list[FileTags | None] | None = None
    if len(jobs) >= PARALLEL_MIN_FILES and workers > 1:
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context()) as pool:
                results = list(pool.map(parse_file, *zip(*jobs, strict=True), chunksize=32))
        except (BrokenProcessPool, OSError) as exc:
            run.warnings.append(f"parallel parsing failed ({exc}); parsed in one process")
    if results is None:
        results = [parse_file(*job) for job in jobs]
    parsed = {}
    for key, job, tags in zip(keys, jobs, results, strict=True):
        if tags is None:
            run.warnings.append(f"{job[1]}: could not be read")
            continue
        parsed[key] = tags
    return parsed


def _worker_context() -> multiprocessing.context.BaseContext:
    # fork where there is one: forkserver and spawn re-run the caller's __main__ module,
    # which breaks any script that calls the map at top level. Workers only parse.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _branch_files(root: Path, base: str | None, run: _Run) -> list[str]:
    if not base:
        return []
    files, warning = changed_since(root, base)
    if warning:
        run.warnings.append(warning)
    return files


def _focus_indices(paths: Sequence[str], wanted: Sequence[str], root: Path) -> list[int]:
    """Indices of mapped files the focus names: exact, or the longest path-suffix match."""
    index = {p: i for i, p in enumerate(paths)}
    prefix = root.as_posix().rstrip("/") + "/"
    found: list[int] = []
    for raw in wanted:
        path = normalize_path(raw)
        if path.startswith(prefix):
            path = path[len(prefix) :]
        hit = index.get(path)
        if hit is None:
            matches = [p for p in paths if p.endswith("/" + path) or path.endswith("/" + p)]
            if matches:
                hit = index[max(matches, key=len)]
        if hit is not None and hit not in found:
            found.append(hit)
    return found


def _lexical_scores(mapped: _Mapped, terms: set[str], cache: TagCache) -> dict[int, float]:
    if not terms or not mapped.paths:
        return {}
    by_blob: dict[int, list[int]] = {}
    for i, blob_id in enumerate(mapped.blob_ids):
        by_blob.setdefault(blob_id, []).append(i)
    postings: dict[str, dict[int, int]] = {}
    for term, blobs in cache.postings(terms, set(by_blob)).items():
        postings[term] = {i: tf for blob_id, tf in blobs.items() for i in by_blob[blob_id]}
    lengths = list(mapped.doc_lengths)
    for i, path in enumerate(mapped.paths):
        for term in lexical.path_terms(path) & terms:
            postings.setdefault(term, {})
            postings[term][i] = postings[term].get(i, 0) + lexical.PATH_TF
            lengths[i] += lexical.PATH_TF
    return lexical.bm25(postings, lengths)


def _rank_and_render(
    top: Path,
    mapped: _Mapped,
    graph: Graph,
    focus: Focus,
    extra_files: Sequence[str],
    cache: TagCache,
    run: _Run,
    budget: int,
    model: str | None,
) -> tuple[str, int, tuple[RankedFile, ...], tuple[str, ...]]:
    focus_files = _focus_indices(mapped.paths, [*focus.files, *extra_files], top)
    terms = lexical.query_terms(" ".join([focus.text, *focus.identifiers]))
    terms |= lexical.compound_terms(focus.text)
    with run.stage("lexical"):
        scores = _lexical_scores(mapped, terms, cache)
    with run.stage("rank"):
        data = RankInput(
            graph=graph,
            focus_files=set(focus_files),
            mentioned=set(focus.identifiers),
            lexical=scores,
            query_terms=terms,
        )
        ranking = rank(data)
    with run.stage("render"):
        order = sorted(range(len(mapped.paths)), key=lambda i: -ranking.file_scores[i])
        count, warning = token_counter(model)
        if warning:
            run.warnings.append(warning)
        def_scores: dict[int, list[float]] = {}
        limit = FIRST_CANDIDATES
        while True:
            # Items of files below the first ``limit`` score at most the next file's score,
            # so the items above that threshold are in their final order: fit those.
            candidates = list(dict.fromkeys([*focus_files, *order[:limit]]))
            for position, f in enumerate(candidates):
                if f not in def_scores:
                    def_scores[f] = definition_scores(
                        graph.file_names[f],
                        ranking.file_scores[f],
                        ranking,
                        data,
                        match_words=position < FIRST_CANDIDATES,
                    )
            threshold = ranking.file_scores[order[limit]] if limit < len(order) else -1.0
            items = [
                it
                for it in _items(candidates, ranking, def_scores, focus_files)
                if it.score >= threshold
            ]
            mapped.load_definitions(sorted({it.file for it in items if it.definition >= 0}), cache)
            text, used, n = fit(items, mapped.paths, mapped.loaded, budget, count)
            if n < len(items) or limit >= len(order):
                break
            limit *= 4
        files = _ranked_files(order, ranking, mapped.loaded, def_scores, mapped, items[:n])
        shown = tuple(dict.fromkeys(mapped.paths[item.file] for item in items[:n]))
    return text, used, files, shown


def _items(
    candidates: Sequence[int],
    ranking: Ranking,
    def_scores: Mapping[int, list[float]],
    focus_files: Sequence[int],
) -> list[Item]:
    """Paths and definitions, best first; the files the task names come first."""
    forced = {f: len(focus_files) - position for position, f in enumerate(focus_files)}
    items = []
    for f in candidates:
        score = float("inf") if f in forced else ranking.file_scores[f]
        items.append(Item(score, f, -1))
        items.extend(Item(value, f, j) for j, value in enumerate(def_scores[f]))
    items.sort(key=lambda it: (-it.score, -forced.get(it.file, 0), it.file, it.definition))
    return items


def _ranked_files(
    order: Sequence[int],
    ranking: Ranking,
    definitions: Mapping[int, list[Definition]],
    def_scores: Mapping[int, list[float]],
    mapped: _Mapped,
    shown: Sequence[Item],
) -> tuple[RankedFile, ...]:
    picked: dict[int, list[int]] = {}
    for item in shown:
        if item.definition >= 0:
            picked.setdefault(item.file, []).append(item.definition)
    result = []
    for f in order:
        defs = tuple(
            _ranked_definition(definitions[f][j], def_scores[f][j]) for j in picked.get(f, ())
        )
        result.append(RankedFile(mapped.paths[f], ranking.file_scores[f], defs))
    return tuple(result)


def _ranked_definition(d: Definition, score: float) -> RankedDefinition:
    return RankedDefinition(d.name, d.kind, d.line, d.end_line, d.signature, score)
