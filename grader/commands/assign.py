"""`gengrade assign`: write the student release (templates, notebooks, READMEs, local grader).

The release is built in a scratch folder, then copied into --out: only the files of the
release are written, files of the previous release that are gone are removed, and
nothing else in --out is touched (`.git`, `.github/` from `gengrade ci github`, the
instructor's notes). A non-empty --out that holds no release manifest is refused.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from grader.commands._options import ASSIGNMENTS, fail, writable_folder

MANIFEST = ".gengrade-release.json"  # the files the last `gengrade assign` wrote into the folder
GIT_ONLY = {".git", ".github", ".gitignore"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("assign", help="write the student release of the assignments")
    parser.add_argument("--out", type=writable_folder, default=Path("release"),
                        help="release folder: new, empty, or a previous release (only its own files are updated)")
    parser.add_argument("--lang", choices=("en", "ko", "both"), default="both", help="language of notebooks and READMEs")
    parser.add_argument("--assignment", "-a", nargs="+", choices=ASSIGNMENTS, default=[],
                        help="assignments to release (default: every one with a solution source)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from grader.release import LeakError, build

    out: Path = args.out
    previous = previous_release(out)
    if previous is None:
        return fail("assign", f"{out} is not empty and holds no release written by gengrade assign "
                              f"(no {MANIFEST}); nothing was changed: give a new or empty folder")
    langs = ("en", "ko") if args.lang == "both" else (args.lang,)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".gengrade-assign-", dir=out))
    try:
        try:
            built = build(scratch / "release", args.assignment, langs)
        except LeakError as error:
            print(f"gengrade assign: {error}", file=sys.stderr)
            return 1
        files = sync(built, out, previous)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    packages = {name.split("/")[0] for name in files if name.count("/") == 1 and name.endswith("/__init__.py")}
    print(f"student release written to {out} (other files there left as they were):")
    print("\n".join(f"  {name}" for name in files if name.split("/")[0] not in packages))
    print("\n".join(f"  {package}/ (local grader: public checks only)" for package in sorted(packages)))
    return 0


def previous_release(out: Path) -> list[str] | None:
    """The files the last release wrote here; [] for a new folder, or one holding only git's (`git init`,
    `gengrade ci github`); None for a folder with other content and no manifest."""
    if not out.exists() or all(entry.name in GIT_ONLY for entry in out.iterdir()):
        return []
    try:
        files = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [f for f in files if isinstance(f, str)]


def sync(built: Path, out: Path, previous: list[str]) -> list[str]:
    """Copy the built release into `out`; remove files of the previous release it no longer has."""
    files = sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file())
    for name in sorted(set(previous) - set(files)):
        _remove_own(out, name)
    for name in files:
        target = out / name
        if _inside(out, target.parent):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_dir():
                raise_conflict(target)
            shutil.copyfile(built / name, target)
    (out / MANIFEST).write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")
    return files


def raise_conflict(target: Path) -> None:
    raise SystemExit(f"gengrade assign: error: {target} is a link or folder where the release has a file; "
                     "move it away and run again")


def _remove_own(out: Path, name: str) -> None:
    """Delete a file a previous release wrote (never a link's target), then its folders if now empty."""
    path = out / name
    if not _inside(out, path.parent) or not path.is_file() or path.is_symlink():
        return
    path.unlink()
    for parent in path.parents:
        if parent == out or not _inside(out, parent):
            break
        try:
            parent.rmdir()
        except OSError:
            break


def _inside(root: Path, path: Path) -> bool:
    """Whether `path` resolves inside `root` (a release file name cannot lead out through a link)."""
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root
