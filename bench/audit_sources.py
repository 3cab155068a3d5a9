"""Materialise the labelled audit projects at their labelled commits (issue 14).

Reads tests/audit/real_projects/split.csv and the labels (labels.csv + labels/*.csv) for the
repo and commit of each project, and writes ``--dest/<project>`` from a bare git directory
brought here by the session's ``fetch`` tool (``/work/.mirror/<owner>+<name>/repo``). Blobs
the snapshot lacks (files of 4 MiB and more) are left out rather than failing the archive:
the audit reads Python sources only. Where upstream is too big to fetch, the fork named in
the project's notes (labels/<project>.md) is used; it holds the same commit.

    .venv/bin/python bench/audit_sources.py --dest /tmp/audit-src [--project NAME]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "tests" / "audit" / "real_projects"
# Upstream snapshots over the fetch limit: the fork each project's notes name (same commit).
MIRROR_OF = {"apache/airflow": "arenadata/airflow", "goauthentik/authentik": "SAY-5/authentik"}
# Only these top-level paths were labelled (labels/agenta.md, labels/polar.md).
PATHS = {"agenta": ("api", "sdk", "services"), "polar": ("server",)}


def project_commits() -> dict[str, tuple[str, str]]:
    """project -> (repo, commit) from every labels file."""
    found: dict[str, tuple[str, str]] = {}
    for path in [CORPUS / "labels.csv", *sorted((CORPUS / "labels").glob("*.csv"))]:
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                found.setdefault(row["project"], (row["repo"], row["commit"]))
    return found


def split_projects() -> list[str]:
    with (CORPUS / "split.csv").open(newline="", encoding="utf-8") as fh:
        return [row["project"] for row in csv.DictReader(fh)]


def git_dir(mirrors: Path, repo: str) -> Path:
    name = MIRROR_OF.get(repo, repo).replace("/", "+")
    base = mirrors / name / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def missing_paths(gitdir: Path, commit: str, roots: tuple[str, ...]) -> list[str]:
    """Paths of the commit's blobs that the snapshot does not hold."""
    listing = subprocess.run(
        ["git", f"--git-dir={gitdir}", "ls-tree", "-r", "-z", commit, "--", *roots],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    entries = []
    for item in listing:
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob":
            entries.append((sha.decode(), path.decode("utf-8", "surrogateescape")))
    checked = subprocess.run(
        ["git", f"--git-dir={gitdir}", "cat-file", "--batch-check=%(objectname)"],
        input="".join(f"{sha}\n" for sha, _ in entries).encode(),
        check=True,
        capture_output=True,
    ).stdout.decode()
    missing = {line.split()[0] for line in checked.splitlines() if line.endswith(" missing")}
    return [path for sha, path in entries if sha in missing]


def materialise(project: str, repo: str, commit: str, mirrors: Path, dest: Path) -> int:
    gitdir = git_dir(mirrors, repo)
    target = dest / project
    roots = PATHS.get(project, (".",))
    missing = missing_paths(gitdir, commit, roots)
    target.mkdir(parents=True, exist_ok=True)
    excludes = [f":(exclude,literal){path}" for path in missing]
    archive = subprocess.Popen(
        ["git", f"--git-dir={gitdir}", "archive", commit, "--", *roots, *excludes],
        stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive failed for {project}")
    return len(missing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("/tmp/audit-src"))
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--project", action="append", default=[])
    args = parser.parse_args(argv)
    commits = project_commits()
    for project in args.project or split_projects():
        repo, commit = commits[project]
        count = materialise(project, repo, commit, args.mirrors, args.dest)
        print(f"{project}: {repo}@{commit[:10]} -> {args.dest / project} ({count} blobs absent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
