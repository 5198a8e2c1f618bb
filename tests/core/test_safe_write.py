"""One rule for every file the project writes (``core/files/safe_write``): the writers are listed here,
the code is scanned for any other way of writing a file, and the helpers are tried on hostile targets."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import matting_gui
from matting_gui.core.files.safe_write import append_text, atomic_write_bytes, atomic_write_with, create_new

PACKAGE = Path(matting_gui.__file__).parent

#: Every module that writes files, and what it writes; each goes through safe_write (directly or
#: through imagewrite / run_files, which do).
WRITERS = {
    "cli/main.py": "evaluation tables (--json)",
    "core/files/imagewrite.py": "mattes, cutouts, composites, trimaps",
    "core/files/outputs.py": "a photo's exports",
    "core/nets/fusion.py": "fusion weights and card",
    "core/nets/onnx_export.py": "ONNX models",
    "core/nets/weights.py": "network weights and cards",
    "gui/controllers/document.py": "trimaps, recovery files",
    "gui/identity.py": "desktop entry and icon",
    "research/cli.py": "reports (--json), ablation lock files",
    "research/data/sources.py": "foreground cache",
    "research/fusion_cli.py": "lattice check of a scored network",
    "research/fusion_eval.py": "fusion mattes and scores",
    "research/fusion_train.py": "fusion checkpoints, logs, scores",
    "research/plot_log.py": "plots",
    "research/report.py": "report rows",
    "research/run_files.py": "checkpoints, training logs",
    "research/solver_cache.py": "solver-matte cache",
    "research/solver_teacher.py": "solver-teacher checkpoints, logs, weights, scores",
    "research/train.py": "checkpoints, weights",
}
HELPERS = ("safe_write import", "imagewrite import", "run_files import")

#: Calls that write or move files: only safe_write.py may make them.
WRITE_CALLS = {("os", "open"), ("os", "fdopen"), ("os", "replace"), ("os", "rename"), ("os", "link"),
               ("tempfile", "mkstemp"), ("tempfile", "NamedTemporaryFile"), ("shutil", "copy"),
               ("shutil", "copyfile"), ("shutil", "copy2"), ("shutil", "move"), ("cv2", "imwrite"),
               ("torch", "save"), ("np", "save"), ("np", "savez"), ("np", "savez_compressed")}
WRITE_METHODS = {"write_text", "write_bytes", "tofile"}
#: Where the file is among a call's arguments, when not first.
FILE_ARG = {"save": 1, "export": 2}
#: Arguments that are no file of ours: an in-memory buffer, the temporary path safe_write hands a
#: writer, the null device.
IN_MEMORY = {"buffer", "tmp", "os.devnull"}


def _file_arg(call: ast.Call, attr: str) -> str | None:
    index = FILE_ARG.get(attr, 0) if attr != "save" or _owner(call.func) == "torch" else 0
    if len(call.args) <= index:
        return None
    arg = call.args[index]
    return arg.id if isinstance(arg, ast.Name) else ast.unparse(arg)


def _owner(func: ast.expr) -> str | None:
    return func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None


def _mode(call: ast.Call, position: int) -> str:
    for kw in call.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        return str(call.args[position].value)
    return "r"


def raw_writes(source: str) -> list[str]:
    """Each call in ``source`` that writes a file other than through safe_write, as 'line: call'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func, name = node.func, None
        if isinstance(func, ast.Name) and func.id == "open" and set(_mode(node, 1)) & set("wax+"):
            name = "open"
        elif isinstance(func, ast.Attribute):
            owner, first = _owner(func), _file_arg(node, func.attr)
            if (owner, func.attr) in WRITE_CALLS and first not in IN_MEMORY:
                name = f"{owner}.{func.attr}"
            elif func.attr in WRITE_METHODS:
                name = func.attr
            elif func.attr == "open" and owner != "Image" and set(_mode(node, 0)) & set("wax+"):
                name = ".open"
            elif func.attr == "export" and isinstance(func.value, ast.Attribute) and func.value.attr == "onnx" \
                    and first not in IN_MEMORY:
                name = "torch.onnx.export"
        if name:
            found.append(f"{node.lineno}: {name}")
    return found


def test_scanner_finds_each_kind_of_raw_write():
    source = "\n".join([
        "open(p, 'w')", "open(p, mode='ab')", "p.open('a')", "p.write_text('x')", "os.replace(a, b)",
        "cv2.imwrite(str(p), img)", "torch.save(obj, path)", "np.savez_compressed(path, a=a)",
        "tempfile.mkstemp(dir=d)", "torch.onnx.export(m, x, path)",
        # not writes
        "open(p)", "p.open('rb')", "np.savez_compressed(buffer, a=a)", "torch.save(obj, tmp)", "Image.open(p)",
    ])
    assert len(raw_writes(source)) == 10


def test_every_module_that_writes_uses_the_one_helper():
    users, offenders = set(), {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text()
        if rel == "core/files/safe_write.py":
            continue
        if any(h in text for h in HELPERS):
            users.add(rel)
        if found := raw_writes(text):
            offenders[rel] = found
    assert offenders == {}, "files written outside core/files/safe_write"
    assert users == set(WRITERS), "a module started or stopped writing files: update WRITERS"


def test_atomic_write_replaces_a_planted_link_not_its_target(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    target = tmp_path / "out.json"
    target.symlink_to(victim)
    atomic_write_bytes(target, b"new")
    assert victim.read_bytes() == b"precious"
    assert not target.is_symlink() and target.read_bytes() == b"new"
    atomic_write_with(target, lambda tmp: tmp.write_bytes(b"newer"))  # the helper's own temporary file
    assert target.read_bytes() == b"newer"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_failed_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "ckpt.pt"
    target.write_bytes(b"old")

    def fail(tmp: Path) -> None:
        tmp.write_bytes(b"half")  # the helper's own temporary file
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_with(target, fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_append_refuses_links_and_fifos(tmp_path):
    log = tmp_path / "log.jsonl"
    append_text(log, "a\n")
    append_text(log, "b\n")
    assert log.read_text() == "a\nb\n"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "link.jsonl"
    link.symlink_to(victim)
    with pytest.raises(OSError):
        append_text(link, "x\n")
    assert victim.read_text() == "keep"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError):  # at once (no reader: ENXIO; else "not a regular file"), never blocking
        append_text(fifo, "x\n")


def test_create_new_never_replaces_anything(tmp_path):
    lock = tmp_path / "a.lock"
    assert create_new(lock, "1")
    assert not create_new(lock, "2") and lock.read_text() == "1"
    dangling = tmp_path / "b.lock"
    dangling.symlink_to(tmp_path / "nowhere")
    assert not create_new(dangling, "3")
    assert not (tmp_path / "nowhere").exists()
