"""The sandbox every student process runs in: bubblewrap, a throw-away user, no network, limits.

``wrap(argv, workdir, ...)`` returns the command line that runs ``argv`` as uid 65534 in new user,
mount, PID, IPC, UTS and network namespaces (``bwrap --unshare-all``), with:

- the whole file system read-only, and the folders that hold secrets (the course, the repository,
  the home folder, every temporary folder) replaced by empty ones; the Python environment and the
  packages the student may import are bound back read-only, ``labkit`` as students get it (without
  the answer key: ``student_labkit``);
- ``workdir`` (a private copy of that one submission) as the only writable folder, also the cwd;
- limits on memory (address space), CPU seconds, file size and open files (``prlimit``), and on
  processes and threads (a pids cgroup, where one can be made); the output the parent reads is
  capped by the parent;
- ``--die-with-parent``: when the process that started it dies or kills it, the PID namespace dies
  with every process the student started.

``available()`` says whether bubblewrap works here; the grader refuses to run student code without
it unless told ``--no-sandbox`` (then it says so in every status).
"""
from __future__ import annotations

import atexit
import functools
import os
import uuid
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SandboxLimits", "available", "wrap", "SandboxUnavailable", "INSTALL_HINT"]

INSTALL_HINT = "install bubblewrap (Debian: apt-get install bubblewrap), or grade with --no-sandbox"
REPO = Path(__file__).resolve().parents[1]


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass
class SandboxLimits:
    memory_bytes: int = 2 * 2**30  # address space of each process (torch and a kernel fit in it)
    cpu_seconds: int = 900
    file_bytes: int = 64 * 2**20  # the largest file it may write
    open_files: int = 256
    processes: int = 256  # processes and threads (a pids cgroup; skipped where none can be made)


@functools.lru_cache(maxsize=1)
def available() -> str | None:
    """None when the sandbox works here, else why not."""
    if shutil.which("bwrap") is None:
        return f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}"
    try:
        probe = subprocess.run(wrap([sys.executable, "-c", "import os; print(os.getuid())"], Path("/")),
                               capture_output=True, timeout=60)
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"bubblewrap could not start ({exc}): {INSTALL_HINT}"
    if probe.returncode != 0 or probe.stdout.strip() != b"65534":
        return f"bubblewrap cannot create its namespaces here ({probe.stderr.decode(errors='replace')[-200:]})"
    return None


def _exposed() -> list[Path]:
    """What the student's Python needs, read-only: the environment and the packages it imports."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(Path(sysconfig.get_paths()[key]))
    for package in ("labkit", "autograder"):
        paths.add(REPO / package)
    return sorted(p for p in paths if p.exists())


PIDS_ROOTS = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]  # cgroup v1, then v2


_MADE: list[Path] = []  # this process's cgroups, removed (once empty) when it exits


@atexit.register
def _remove_cgroups() -> None:
    for group in _MADE:
        try:
            group.rmdir()
        except OSError:
            pass


def _pids_cgroup(limit: int) -> Path | None:
    """A fresh pids cgroup capped at ``limit`` (None where cgroups cannot be made); empty ones left by
    grading processes that have ended are removed on the way. RLIMIT_NPROC cannot do this job here:
    the sandbox's user maps to root outside, which that limit exempts."""
    for root in PIDS_ROOTS:
        if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
            continue
        controllers = root / "cgroup.controllers"  # cgroup v2: only where the pids controller is on
        if controllers.exists() and "pids" not in controllers.read_text():
            continue
        for stale in root.glob("labgrade-*"):
            owner = stale.name.split("-")[1]
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                try:
                    stale.rmdir()
                except OSError:
                    pass
        try:
            group = root / f"labgrade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            group.mkdir()
            _MADE.append(group)
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            continue
    return None


_STUDENT_LABKIT: list = []
_STUDENT_LABKIT_LOCK = __import__("threading").Lock()


def student_labkit() -> tuple[Path, Path]:
    """(the labkit package folder, a copy of it as students get it): bound over the package in every
    sandbox, so that student code finds no reference implementation to call or copy (no
    ``labkit.reference``, no graded function in ``labkit.gradcheck``; ``autograder.kit``). Built once
    per process."""
    import tempfile

    import labkit

    with _STUDENT_LABKIT_LOCK:
        if not _STUDENT_LABKIT:
            from .kit import student_package

            folder = Path(tempfile.mkdtemp(prefix="labgrade-student-labkit-"))
            atexit.register(shutil.rmtree, folder, True)
            _STUDENT_LABKIT.append((Path(labkit.__file__).resolve().parent, student_package(folder, freeze=False)))
        return _STUDENT_LABKIT[0]


def _hidden(extra: list[Path]) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    candidates = [REPO, home, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run"), *extra]
    return sorted({p.resolve() for p in candidates if p.exists() and p.is_dir()}, key=lambda p: len(p.parts))


def wrap(argv: list[str], workdir: Path, hide: list[Path] = (), limits: SandboxLimits | None = None,
         env: dict[str, str] | None = None) -> list[str]:
    """The command line that runs ``argv`` in the sandbox, with ``workdir`` its only writable folder."""
    limits = limits or SandboxLimits()
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in _hidden([Path(p) for p in hide]):
        cmd += ["--tmpfs", str(path)]
    for path in _exposed():
        cmd += ["--ro-bind", str(path), str(path)]
    package, students = student_labkit()
    cmd += ["--ro-bind", str(students), str(package)]  # labkit without the answer key (autograder.kit)
    workdir = Path(workdir).resolve()
    inside = "/tmp/work"  # /tmp is an empty tmpfs in the sandbox
    if workdir != Path("/"):
        cmd += ["--bind", str(workdir), inside, "--chdir", inside]
    cmd += ["--clearenv", "--setenv", "HOME", inside, "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "--setenv", "MPLBACKEND", "Agg", "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    for key, value in (env or {}).items():
        cmd += ["--setenv", key, value]
    cmd += ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_bytes}",
            f"--nofile={limits.open_files}", "--"]
    group = _pids_cgroup(limits.processes)
    enter = ["sh", "-c", f'{{ echo $$ > "{group}/cgroup.procs"; }} 2>/dev/null; exec "$@"', "sh"] if group else []
    return enter + cmd + list(argv)
