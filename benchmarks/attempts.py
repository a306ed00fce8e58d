"""A run's second attempt against its first, on Rust crates and Go modules (issue #24):
with the run's cache, and as swc ran them before.

    python benchmarks/attempts.py [--repeat 3] [PROJECT ...]

Each project is made in a temporary git repository. One trial does what a ``swc fix`` run
does with its test command, through the sandbox: a test run in the base's worktree (the
baseline: nothing built yet), then two attempts, each in a new worktree holding a
candidate patch (a wrong one, then the right one) and the generated test. With the run's
cache (as swc runs now): one cache directory for the run (``Isolation.cache_dir``: one
cargo target directory, with the files no attempt changed made old for cargo; one Go
build cache) and the attempts' worktrees at one path, one after the other (Go's cache
keys hold a package's directory). As before: nothing shared, each worktree builds
everything. Prints the median wall time of each test run, the second attempt's share of
the first attempt and of the run's first test run (the baseline), and a run of five test
runs (the baseline, the reproduction test on the base,
three candidates).

Projects:
- rust-deps: a crate using a library of its workspace (about 17,000 lines of generated
  code standing in for its dependencies: no registry is reachable here), a patch to the
  crate itself;
- rust-alone: a crate without dependencies (the whole crate is the patched unit);
- go: a module of 30 packages (about 490 lines each, 14,700 in all, near as much code
  as rust-deps's library), the code under test importing them, and a patch to its one
  package under test;
- go-small: the same with 12 packages of about 280 lines.
Needs cargo and go on PATH and a working bubblewrap.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swcollab.ecosystems import detect_test_command  # noqa: E402
from swcollab.sandbox import Isolation, Worktree, run_tests  # noqa: E402

MANIFEST = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{deps}'
APP = """pub fn add(a: i64, b: i64) -> i64 {
    a - b
}

pub fn total(values: &[i64]) -> i64 {
    engine::sum_all(values)
}
"""
ALONE = APP.replace("engine::sum_all(values)", "values.iter().sum()")
RUST_TEST = "#[test]\nfn adds() {\n    assert_eq!(app::add(2, 3), 5);\n}\n"
GO_TEST = (
    'package calc\n\nimport "testing"\n\nfunc TestAddSums(t *testing.T) {\n'
    "\tif Add(2, 3) != 5 {\n\t\tt.Fatal(Add(2, 3))\n\t}\n}\n"
)


def engine_code(functions: int) -> str:
    """A library of generic code a compiler has to work at (monomorphised per type)."""
    parts = [
        "use std::collections::BTreeMap;\n\npub fn sum_all(v: &[i64]) -> i64 { v.iter().sum() }\n"
    ]
    for index in range(functions):
        parts.append(
            f"""
pub fn fold_{index}<T: Clone + Ord + std::fmt::Debug>(items: &[T]) -> BTreeMap<String, Vec<T>> {{
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {{
        let key = format!("{{:?}}-{{}}", item, (i + {index}) % 7);
        out.entry(key).or_default().push(item.clone());
    }}
    out
}}

pub fn use_{index}() -> usize {{
    fold_{index}(&[1u8, 2, 3]).len() + fold_{index}(&["a", "b"]).len()
        + fold_{index}(&[1i64, 5]).len()
}}
"""
        )
    return "".join(parts)


def rust_deps() -> dict[str, str]:
    return {
        "Cargo.toml": '[workspace]\nmembers = ["app", "engine"]\nresolver = "2"\n',
        "engine/Cargo.toml": MANIFEST.format(name="engine", deps=""),
        "engine/src/lib.rs": engine_code(1200),
        "app/Cargo.toml": MANIFEST.format(
            name="app", deps='\n[dependencies]\nengine = { path = "../engine" }\n'
        ),
        "app/src/lib.rs": APP,
    }


def rust_alone() -> dict[str, str]:
    return {"Cargo.toml": MANIFEST.format(name="app", deps=""), "src/lib.rs": ALONE}


def go_module(packages: int = 30, functions: int = 80) -> dict[str, str]:
    files = {"go.mod": "module example.com/bench\n\ngo 1.19\n"}
    imports = []
    for index in range(packages):
        body = [f'package lib{index}\n\nimport (\n\t"fmt"\n\t"sort"\n\t"strings"\n)\n']
        for fn in range(functions):
            body.append(
                f"\nfunc Join{fn}(items []string) string {{\n\tout := append([]string(nil), "
                f'items...)\n\tsort.Strings(out)\n\treturn fmt.Sprintf("%d:%s", {fn}, '
                'strings.Join(out, ","))\n}\n'
            )
        files[f"lib{index}/lib.go"] = "".join(body)
        imports.append(f'\t"example.com/bench/lib{index}"')
    uses = "".join(f"\t_ = lib{i}.Join0\n" for i in range(packages))
    files["calc/calc.go"] = (
        "package calc\n\nimport (\n" + "\n".join(imports) + "\n)\n\n"
        f"func Add(a, b int) int {{\n{uses}\treturn a - b\n}}\n"
    )
    return files


# (name, files, the patched file and its old and new text, the generated test's file and text)
PROJECTS = {
    "rust-deps": (
        rust_deps,
        "app/src/lib.rs",
        ("    a - b", "    a + b"),
        "app/tests/swc_add.rs",
        RUST_TEST,
    ),
    "rust-alone": (
        rust_alone,
        "src/lib.rs",
        ("    a - b", "    a + b"),
        "tests/swc_add.rs",
        RUST_TEST,
    ),
    "go": (
        go_module,
        "calc/calc.go",
        ("\treturn a - b", "\treturn a + b"),
        "calc/swc_add_test.go",
        GO_TEST,
    ),
    "go-small": (
        lambda: go_module(12, 40),
        "calc/calc.go",
        ("\treturn a - b", "\treturn a + b"),
        "calc/swc_add_test.go",
        GO_TEST,
    ),
}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def trial(repo: Path, project: tuple, cache: Path | None, run: str) -> list[float]:
    """Wall times of one run's test runs: the baseline, then two attempts."""
    _files, patched, (old, new), test_file, test_text = project
    isolation = replace(Isolation(), cache_dir=cache)
    times = []
    # the attempts' worktrees share one path when the run has its cache, as in swc
    for step, name, text in (
        ("baseline", None, old),
        ("attempt 1", f"{run}-attempt" if cache else None, old + "  "),
        ("attempt 2", f"{run}-attempt" if cache else None, new),
    ):
        with Worktree(repo, "HEAD", name=name) as tree:
            command = detect_test_command(tree.path)
            assert command is not None
            (tree.path / test_file).parent.mkdir(parents=True, exist_ok=True)
            (tree.path / test_file).write_text(test_text)
            source = tree.path / patched
            source.write_text(source.read_text().replace(old, text))
            started = time.perf_counter()
            result = run_tests(
                tree.path, command, timeout=1800, selection=[test_file], isolation=isolation
            )
            times.append(time.perf_counter() - started)
            wanted = "passed" if step == "attempt 2" else "failed"
            statuses = {r.status for r in result.results}
            assert statuses == {wanted}, (step, result.output[-2000:])
    return times


def measure(name: str, repeat: int, work: Path) -> None:
    project = PROJECTS[name]
    repo = make_repo(work / name, project[0]())
    for label, cached in (("run's cache", True), ("as before", False)):
        runs = []
        for index in range(repeat):
            cache = work / f"cache-{name}-{label[:2]}-{index}" if cached else None
            if cache is not None:
                cache.mkdir()
            runs.append(trial(repo, project, cache, f"bench{os.getpid()}-{index}"))
        base, first, second = (statistics.median(r[i] for r in runs) for i in range(3))
        print(
            f"{name:10} {label:11}  baseline {base:6.2f} s  attempt 1 {first:6.2f} s  "
            f"attempt 2 {second:6.2f} s  2nd/1st {second / first:6.1%}  2nd/baseline "
            f"{second / base:6.1%}  run of 5 {base + first + 3 * second:6.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("projects", nargs="*", default=list(PROJECTS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attempts-bench-") as tmp:
        for name in args.projects:
            measure(name, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
