"""Run the notebook posts again and save their fresh outputs in place.

A notebook post is published with the outputs saved in it: the site build never runs a
kernel. After editing a notebook (or upgrading a library it uses), refresh its outputs:

    .venv/bin/python scripts/execute_posts.py                   # every posts/*.ipynb
    .venv/bin/python scripts/execute_posts.py posts/2026-11-20-notebook-features.ipynb

Each notebook runs top to bottom in a fresh kernel, from its own folder (so relative
paths work as they do in Jupyter). It is saved only when every cell succeeded, so a
failing run never destroys the outputs you had. A cell whose error is the point of the
post needs the `raises-exception` tag; any other error stops with the notebook, the
cell number and the error.

Needs the `dev` extra (ipykernel) on top of `site` (nbclient, nbformat), and a Jupyter
kernel: `.venv/bin/python -m ipykernel install --sys-prefix` installs `python3`.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat.reader import NotJSONError

REPO = Path(__file__).resolve().parents[1]
POSTS = REPO / "posts"
DEFAULT_TIMEOUT = 300  # seconds per cell: generous for a post, still catches a hung loop
KERNEL_FIX = "install one with `.venv/bin/python -m ipykernel install --sys-prefix`"


class ExecuteError(Exception):
    """A notebook could not be executed; the message names the notebook and what to do."""


def _describe_cell(cell: nbformat.NotebookNode, index: int) -> str:
    first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
    if len(first_line) > 60:
        first_line = first_line[:57] + "..."
    return f"cell {index + 1} ({first_line!r})" if first_line else f"cell {index + 1}"


def execute_notebook(
    path: Path, *, timeout: int = DEFAULT_TIMEOUT, kernel_name: str | None = None
) -> float:
    """Execute the notebook at `path` and save it in place; return the seconds it took.

    The kernel is `kernel_name`, else the one named in the notebook's metadata, else
    `python3`. Raises ExecuteError, leaving the file untouched, when anything fails.
    """
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ExecuteError(
            f"{path}: not a notebook (.ipynb); Markdown posts have no outputs to run"
        )
    try:
        read_at = path.stat().st_mtime_ns  # to notice an edit saved while the cells run
        notebook = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise ExecuteError(f"{path}: no such file") from None
    except (NotJSONError, ValueError) as error:
        raise ExecuteError(
            f"{path}: not a valid notebook ({error}); open it in Jupyter to repair it"
        ) from None
    kernel = kernel_name or notebook.metadata.get("kernelspec", {}).get("name") or "python3"

    current = {"index": 0}

    def remember_cell(cell: nbformat.NotebookNode, cell_index: int, **_: object) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        # Per-cell timestamps would change every cell on every run: noisy diffs, no value.
        record_timing=False,
        on_cell_start=remember_cell,
    )
    started = time.perf_counter()
    # The kernel process's own stderr (connection warnings, shutdown noise) goes to a
    # scratch file, shown only if the kernel dies; what cells print comes via Jupyter's
    # messages and lands in the outputs as usual.
    with tempfile.TemporaryFile(mode="w+") as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except CellTimeoutError:
            cell = _describe_cell(notebook.cells[current["index"]], current["index"])
            raise ExecuteError(
                f"{path}: {cell} ran longer than {timeout} s; "
                "make it faster or pass a larger --timeout"
            ) from None
        except CellExecutionError as error:
            cell = _describe_cell(notebook.cells[current["index"]], current["index"])
            raise ExecuteError(
                f"{path}: {cell} raised {error.ename}: {error.evalue}\n"
                "Fix the cell, or tag it `raises-exception` if showing the error is the point."
            ) from None
        except DeadKernelError:
            cell = _describe_cell(notebook.cells[current["index"]], current["index"])
            kernel_log.seek(0)
            log = kernel_log.read()[-2000:].strip() or "(the kernel printed nothing)"
            raise ExecuteError(
                f"{path}: the kernel died in {cell} (out of memory or a crash in native "
                f"code?). Its last words:\n{log}"
            ) from None
        except Exception as error:
            # jupyter_client raises NoSuchKernel (a KeyError) for an unknown kernel name.
            if type(error).__name__ == "NoSuchKernel":
                raise ExecuteError(
                    f"{path}: no Jupyter kernel named {kernel!r}; {KERNEL_FIX}, "
                    "or pass --kernel with one that `jupyter kernelspec list` shows"
                ) from None
            raise
    seconds = time.perf_counter() - started

    if path.stat().st_mtime_ns != read_at:
        raise ExecuteError(
            f"{path}: the notebook was saved by something else while it ran; its outputs were "
            "not written, so that edit is kept. Run it again."
        )
    # Write beside the notebook, then rename over it: an interrupted save never leaves
    # half a notebook behind.
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(suffix=".ipynb", dir=path.parent, prefix=".executing-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            nbformat.write(notebook, stream)
        os.chmod(temporary, mode)  # mkstemp makes the file private (0600); keep the original's
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return seconds


def find_notebooks(paths: list[Path]) -> list[Path]:
    """Expand folders to the notebooks in them; with no paths, every notebook in posts/."""
    found: list[Path] = []
    for path in paths or [POSTS]:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.ipynb") if not p.name.startswith(".")))
        else:
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="execute_posts.py",
        description=__doc__.split("\n\n")[0],
        epilog="Example: .venv/bin/python scripts/execute_posts.py posts/2026-11-20-notebook-features.ipynb",  # noqa: E501
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="notebooks, or folders whose *.ipynb files to run (default: posts/)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help="seconds one cell may run before the notebook fails (default: %(default)s)",
    )
    parser.add_argument(
        "--kernel",
        default=None,
        help="Jupyter kernel to run every notebook with "
        "(default: the notebook's own kernelspec, else python3)",
    )
    args = parser.parse_args(argv)

    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print(f"No notebooks found in {', '.join(map(str, args.paths or [POSTS]))}.")
        return 0
    failed = 0
    for number, notebook in enumerate(notebooks, start=1):
        print(f"[{number}/{len(notebooks)}] {notebook}", flush=True)
        try:
            seconds = execute_notebook(notebook, timeout=args.timeout, kernel_name=args.kernel)
        except ExecuteError as error:
            failed += 1
            print("    failed", flush=True)
            print(f"error: {error}", file=sys.stderr, flush=True)
        else:
            print(f"    saved ({seconds:.1f} s)", flush=True)
    if failed:
        print(
            f"{failed} of {len(notebooks)} notebooks failed; they were left unchanged.",
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
