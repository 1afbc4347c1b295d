"""How much does the contract suite catch? Mutation testing of tavus-mock's behaviour code (not in CI).

usage: python bench/mutation.py [--sample 60] [--seed 1] [--keep DIR]
       python bench/mutation.py --again OLD_OUTPUT --again-rev REV   (re-run an earlier run's survivors)

1. copies HEAD into a scratch directory (the working tree is never mutated);
2. installs cosmic-ray 8.7.0 (pinned) into its own virtual environment there;
3. lists every mutant of the behaviour code (MODULES), keeps a seeded random sample;
4. for each sampled mutant runs a fast contract run (bench/mutation_check.py: a fresh in-process
   tavus-mock built from the mutated copy, examples, coverage and stateful phases, 5 examples, seed 1)
   as the test command: the mutant is killed when the contract run fails or times out;
5. prints the kill rate, the time taken, and every survivor (file, line, operator), to be studied:
   each is either a gap in the spec or the checks, or an equivalent mutant.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COSMIC_RAY = "cosmic-ray==8.7.0"
# The behaviour code a contract run exercises (db.py is not: the run uses the in-memory store; nor is
# control.py, the control plane /_mock/... and the faults a test asks for, which no spec describes).
MODULES = [
    "tavus_mock/app.py",
    "tavus_mock/store.py",
    "tavus_mock/aliases.py",
    "tavus_mock/core.py",
    "tavus_mock/service.py",
    *sorted(  # every behaviour module (one per resource family)
        str(p.relative_to(ROOT)) for p in (ROOT / "tavus_mock" / "resources").glob("*.py") if p.name != "__init__.py"
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=60, help="mutants to run (seeded random sample)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temporary directory)")
    parser.add_argument("--again", type=Path, help="the printout of an earlier run: run its survivors instead")
    parser.add_argument("--again-rev", default="HEAD", help="the commit that earlier run mutated (its line numbers)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tavus-mutation-"))
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "src"
    if not copy.exists():
        subprocess.run(["git", "clone", "--quiet", "--local", str(ROOT), str(copy)], check=True)
    venv = work / "cr-venv"
    if not (venv / "bin" / "cosmic-ray").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", COSMIC_RAY], check=True)
    config = work / "cosmic-ray.toml"
    check = f"env PYTHONPATH={copy} {sys.executable} {copy / 'bench' / 'mutation_check.py'}"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps([str(copy / m) for m in MODULES])}\n"
        "timeout = 90.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(check)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n',
        encoding="utf-8",
    )
    session = work / "session.sqlite"
    cr = str(venv / "bin" / "cosmic-ray")
    if not session.exists():
        subprocess.run([cr, "init", str(config), str(session)], check=True, cwd=copy)
        if args.again:
            keep_survivors(session, copy, args.again, args.again_rev)
        else:
            keep_sample(session, args.sample, args.seed)
    print(f"baseline: the unmutated copy must honour the contract ({check})", flush=True)
    subprocess.run(check.split(), check=True, cwd=copy)
    started = time.monotonic()
    subprocess.run([cr, "exec", str(config), str(session)], check=True, cwd=copy)
    seconds = time.monotonic() - started
    report(session, seconds, args)
    return 0


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where a module's annotations are, when `from __future__ import annotations` makes them strings
    that nothing evaluates: a mutant there (`str | None` -> `str + None`) cannot change behaviour."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lazy = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    if not lazy:
        return []
    found = []
    for node in ast.walk(tree):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                found.append(((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset)))
    return found


def keep_sample(session: Path, size: int, seed: int) -> None:
    """Delete every pending work item but a seeded random sample of `size`, drawn from the mutants that
    are not inside an annotation (those are equivalent by construction: listed apart, never run)."""
    with sqlite3.connect(session) as db:
        # Ordered by what is mutated, not by job id (a fresh uuid per session): the same code and seed
        # give the same sample, so runs before and after a change of the checks compare.
        rows = db.execute(
            "SELECT job_id, module_path, start_pos_row, start_pos_col FROM mutation_specs "
            "ORDER BY module_path, start_pos_row, start_pos_col, operator_name, occurrence"
        ).fetchall()
        spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
        ids, in_annotations = [], 0
        for job, module, row, col in rows:
            where = spans.setdefault(module, annotation_spans(Path(module)))
            if any(start <= (row, col) < end for start, end in where):
                in_annotations += 1
            else:
                ids.append(job)
        keep = set(random.Random(seed).sample(ids, min(size, len(ids))))
        print(
            f"{len(rows)} mutants in {', '.join(MODULES)}; {in_annotations} inside annotations (never evaluated:"
            f" equivalent, left out); running a sample of {len(keep)} of the other {len(ids)} (seed {seed})"
        )
        for job, *_ in rows:
            if job not in keep:
                db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job,))
                db.execute("DELETE FROM work_items WHERE job_id = ?", (job,))


SURVIVOR = re.compile(r"survived\s+(\S+?):(\d+)\s+(\S+)")


def keep_survivors(session: Path, copy: Path, printout: Path, rev: str) -> None:
    """Delete every work item but the survivors listed in an earlier run's printout. Its line numbers
    are those of `rev`: each is found again in the current code by the line's text (the nearest line
    with the same text), and every mutant of that operator on that line is kept."""
    wanted: set[tuple[str, int, str]] = set()
    missing = []
    for name, row, operator in SURVIVOR.findall(printout.read_text(encoding="utf-8")):
        module = next(m for m in MODULES if Path(m).name == name)
        old = subprocess.run(["git", "show", f"{rev}:{module}"], capture_output=True, text=True, check=True, cwd=ROOT)
        text = old.stdout.splitlines()[int(row) - 1].strip()
        now = (copy / module).read_text(encoding="utf-8").splitlines()
        rows = [i + 1 for i, line in enumerate(now) if line.strip() == text]
        if not rows:
            missing.append(f"{name}:{row}")
            continue
        wanted.add((module, min(rows, key=lambda r: abs(r - int(row))), operator))
    with sqlite3.connect(session) as db:
        specs = db.execute("SELECT job_id, module_path, start_pos_row, operator_name FROM mutation_specs").fetchall()
        kept = 0
        for job, path, row, operator in specs:
            module = str(Path(path).relative_to(copy))
            if (module, row, operator.split("/")[-1]) in wanted:
                kept += 1
                continue
            db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job,))
            db.execute("DELETE FROM work_items WHERE job_id = ?", (job,))
    print(f"re-running {kept} mutants at the {len(wanted)} survivor sites of {printout} (as of {rev})")
    if missing:
        print(f"  lines no longer in the code: {', '.join(missing)}")


def report(session: Path, seconds: float, args: argparse.Namespace) -> None:
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT s.module_path, s.start_pos_row, s.operator_name, r.test_outcome, r.diff"
            " FROM work_results r JOIN mutation_specs s ON s.job_id = r.job_id ORDER BY s.module_path, s.start_pos_row"
        ).fetchall()
    outcome = {row: str(row[3]).lower() for row in rows}  # killed, survived, incompetent (mutant does not run)
    killed = [r for r in rows if outcome[r] == "killed"]
    survivors = [r for r in rows if outcome[r] == "survived"]
    incompetent = len(rows) - len(killed) - len(survivors)
    tested = len(killed) + len(survivors)
    share = len(killed) / tested * 100 if tested else 0.0
    chosen = f"the survivors of {args.again}" if args.again else f"sample {args.sample}, seed {args.seed}"
    print(f"\n{len(rows)} mutants ({chosen}) in {seconds / 60:.1f} min:")
    print(f"  killed {len(killed)} of {tested} ({share:.0f} %), survived {len(survivors)}, incompetent {incompetent}")
    for module, line, operator, _, diff in survivors:
        changed = next((x[1:].strip() for x in diff.splitlines() if x.startswith("+") and not x.startswith("+++")), "")
        print(f"  survived  {Path(module).name}:{line}  {operator.split('/')[-1]}  -> {changed[:90]}")


if __name__ == "__main__":
    raise SystemExit(main())
