"""Site build: our blog vs mkdocs-jupyter on the same generated notebooks, and the floor.

    python bench/site.py                 # 25, 50, 100 and 200 posts, 5 interleaved repeats
    python bench/site.py --quick         # 5 and 10 posts, one repeat (a smoke run)
    python bench/site.py --skip-peer     # only our blog and the floor
    python bench/site.py --skip-serve    # only the `mkdocs build` figures
    python bench/site.py --skip-builds   # only the `mkdocs serve` edit -> reload loop

Every post is a realistic notebook: a fastpages header cell, prose, code with stdout, a
matplotlib PNG figure and an HTML table (as pandas writes it). Three sites are built from
the same corpus, each in a temporary folder, with `mkdocs build` in a fresh process as a
user runs it:

- ours: a copy of this project's mkdocs.yml and site/, the notebooks in posts/; the
  notebook-posts plugin converts them (content-hash cache in .cache/blog) for Material's blog.
- mkdocs-jupyter: a minimal Material site with the mkdocs-jupyter plugin (its cache on), the
  same notebooks as pages in docs/.
- the floor: the same site as ours, without our plugin, with the Markdown pages and figures
  our converter produced already in site/posts/: what `mkdocs build` costs with nothing to
  convert, so the one-notebook rebuild can be compared with it.

For each size: the cold build (no cache, no output folder) and the rebuild after one
notebook changed, for both tools, and the floor's build; each is the median over the
repeats, which interleave the three sites so a busy machine slows all of them alike.
The peer runs with `--peer-python` (a Python that has mkdocs-jupyter, from the `bench` extra).

The serve loop, for ours and the floor at each size: `mkdocs serve` (live reload on, bound to
127.0.0.1 on a free port) runs for both sites at once; once the first build is served, each
repeat edits one post of each site in turn (ours: a Markdown cell of the notebook; the floor:
its converted page in site/posts/, the same text our converter makes of the edited notebook)
with a unique marker, and times from the file write until an HTTP GET of that post's page
returns the marker (polled every 20 ms). The figure is what an author waits for after saving:
MkDocs' own file-watch delay (a polling observer, 0.5 s, then a 0.1 s debounce), the whole
rebuild MkDocs serve runs in its process (config reload, our plugin, Material's blog plugin,
every page), and the request; the watch delay is the same on both sides. One untimed edit per
server comes first, so a figure is the steady loop, not the first rebuild in a new process.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):  # run as a script from anywhere in the repository
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import common  # noqa: E402

SIZES = (25, 50, 100, 200)
QUICK_SIZES = (5, 10)
PEER = "mkdocs-jupyter"
FLOOR = "plain mkdocs build (floor)"
SERVE_FLOOR = "plain mkdocs serve (floor)"
# Goals from the issues: ours / peer for the cold build, ours / floor for the rebuild and for
# the serve edit -> reload loop.
COLD_GOAL = 0.5
REBUILD_GOAL = 1.2
SERVE_GOAL = 1.5
SERVE_POLL = 0.02  # seconds between GETs while waiting for a reload
SERVE_START_TIMEOUT = 600  # the first build of a server (a cold cache at 200 posts included)
SERVE_RELOAD_TIMEOUT = 180  # one edit -> reload
SERVE_SETTLE = 1.5  # after a server is up: its file watcher takes its first snapshot
SERVE_PAUSE = 0.3  # between edits, so no edit lands in the previous one's debounce


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    # Options whose default depends on --quick say so in their own help.
    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=_Help)
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help=f"numbers of posts (default {' '.join(map(str, SIZES))}; "
        f"with --quick {' '.join(map(str, QUICK_SIZES))})",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="interleaved repeats per size; the median is reported (default 5; with --quick 1)",
    )
    p.add_argument("--quick", action="store_true", help="a fast smoke run: few posts, one repeat")
    p.add_argument("--skip-peer", action="store_true", help="build only ours and the floor")
    p.add_argument(
        "--skip-serve", action="store_true", help="skip the `mkdocs serve` edit -> reload loop"
    )
    p.add_argument(
        "--skip-builds",
        action="store_true",
        help="measure only the `mkdocs serve` edit -> reload loop",
    )
    p.add_argument(
        "--python",
        default=sys.executable,
        help="the Python that builds our blog and the floor (has this project's site extra)",
    )
    p.add_argument(
        "--peer-python",
        default=sys.executable,
        help="the Python that builds the mkdocs-jupyter site (has mkdocs-jupyter)",
    )
    p.add_argument("--results", type=Path, default=common.RESULTS, help="folder for site.json")
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="build in this folder and keep it (default: a temporary folder, removed)",
    )
    args = p.parse_args(argv)
    args.sizes = args.sizes or list(QUICK_SIZES if args.quick else SIZES)
    args.repeats = args.repeats or (1 if args.quick else 5)
    if min(args.sizes) < 2:
        p.error("--sizes: every size needs at least 2 posts (one of them is edited)")
    if args.skip_serve and args.skip_builds:
        p.error("--skip-serve and --skip-builds together leave nothing to measure")
    return args


# --- the corpus ---------------------------------------------------------------------------

TOPICS = [
    "bears",
    "pets",
    "digits",
    "birds",
    "cars",
    "flowers",
    "food",
    "leaves",
    "coins",
    "tools",
    "shoes",
    "clouds",
]


def figure_png(seed: int) -> bytes:
    """A small training-curve figure, different for every post (as real posts are)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a build machine
    import matplotlib.pyplot as plt

    epochs = list(range(1, 11))
    train = [1.6 * math.exp(-0.25 * e) + 0.02 * ((seed * 7 + e) % 5) for e in epochs]
    valid = [t + 0.08 + 0.01 * ((seed + e) % 3) for e, t in zip(epochs, train, strict=True)]
    fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
    ax.plot(epochs, train, label="train loss")
    ax.plot(epochs, valid, label="valid loss")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def html_table(seed: int) -> tuple[str, str]:
    """An epoch table the way pandas renders a DataFrame in a notebook (HTML and plain)."""
    rows = [(e, 1.2 / (e + 1) + seed % 7 / 100, 1.3 / (e + 1), 0.3 / (e + 1)) for e in range(6)]
    head = "".join(f"<th>{c}</th>" for c in ("epoch", "train_loss", "valid_loss", "error_rate"))
    body = "".join(
        f"<tr><th>{e}</th><td>{t:.6f}</td><td>{v:.6f}</td><td>{r:.6f}</td></tr>"
        for e, t, v, r in rows
    )
    html = (
        '<div>\n<table border="1" class="dataframe">\n<thead><tr style="text-align: '
        f'right;">{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>\n</div>'
    )
    plain = "\n".join(f"{e:>5} {t:.6f} {v:.6f} {r:.6f}" for e, t, v, r in rows)
    return html, plain


def notebook(index: int, edit: int = 0, marker: str = "") -> dict:
    """One post: fastpages header, prose, code with stdout, a PNG figure and an HTML table.
    `marker` goes into the prose, for the serve loop to find on the reloaded page."""
    import nbformat.v4 as nbf

    topic = TOPICS[index % len(TOPICS)]
    png = base64.b64encode(figure_png(index)).decode()
    html, plain = html_table(index)
    edited = f" (edited {edit} times)" if edit else ""
    edited += f" ({marker})" if marker else ""
    cells = [
        nbf.new_markdown_cell(
            f'# "Classifying {topic}, part {index}"\n'
            f'> "Fine-tuning a resnet on {topic} photos and what went wrong"\n\n'
            "- toc: true\n- categories: [vision]"
        ),
        nbf.new_markdown_cell(
            f"Chapter 2 of the book trains a classifier in a few lines. Here I tried it on "
            f"**{topic}**{edited}, with a resnet34 and `fine_tune(4)`. The interesting part "
            "was not the accuracy but the mistakes: the top losses showed mislabelled "
            "images in the data set, which is the lesson the book keeps coming back to.\n\n"
            "## The data\n\n- one folder per label\n- 20% held out, seeded\n"
            "- images resized to 224 pixels"
        ),
        nbf.new_code_cell(
            "from pathlib import Path\n"
            f"path = Path('data/{topic}')\n"
            "files = sorted(path.rglob('*.jpg'))\n"
            "print(len(files), 'images in', len({f.parent for f in files}), 'folders')",
            execution_count=1,
            outputs=[
                nbf.new_output("stream", name="stdout", text=f"{300 + index} images in 3 folders\n")
            ],
        ),
        nbf.new_markdown_cell("## Training\n\nThe losses fall steadily; validation follows."),
        nbf.new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "plt.plot(epochs, train_loss, label='train loss')\n"
            "plt.plot(epochs, valid_loss, label='valid loss')\n"
            "plt.legend();",
            execution_count=2,
            outputs=[
                nbf.new_output(
                    "display_data",
                    data={"image/png": png, "text/plain": "<Figure size 400x240 with 1 Axes>"},
                )
            ],
        ),
        nbf.new_code_cell(
            "learn.recorder.values_df()",
            execution_count=3,
            outputs=[
                nbf.new_output(
                    "execute_result",
                    execution_count=3,
                    data={"text/html": html, "text/plain": plain},
                )
            ],
        ),
        nbf.new_markdown_cell(
            "## What I learned\n\nClean the data with the model: sort by loss, look at the "
            "worst images, fix their labels, train again."
        ),
    ]
    nb = nbf.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    return nb


def post_name(index: int) -> str:
    day = 1 + index % 28
    month = 1 + (index // 28) % 12
    return f"2025-{month:02d}-{day:02d}-post-{index:03d}.ipynb"


def write_corpus(folder: Path, count: int, progress=None) -> list[Path]:
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / post_name(index)
        if not path.exists():
            nbformat.write(nbformat.from_dict(notebook(index)), str(path))
        paths.append(path)
        if progress is not None:
            progress.update(1)
    return paths


def edit_notebook(path: Path, index: int, edit: int) -> None:
    """Change one notebook's prose, as an author fixing a sentence does."""
    import nbformat

    nbformat.write(nbformat.from_dict(notebook(index, edit)), str(path))


# --- the three sites ----------------------------------------------------------------------


def _without_our_plugin(mkdocs_yml: str) -> str:
    """The project's mkdocs.yml without the notebook-posts entry (and its options)."""
    lines, out, skipping = mkdocs_yml.splitlines(), [], None
    for text in lines:
        indent = len(text) - len(text.lstrip())
        if skipping is not None:
            if text.strip() and indent > skipping:
                continue
            skipping = None
        if re.match(r"\s*- notebook-posts\b", text):
            skipping = indent
            continue
        out.append(text)
    return "\n".join(out) + "\n"


def setup_ours(folder: Path, notebooks: list[Path]) -> Path:
    site = folder / "ours"
    shutil.copytree(ROOT / "site", site / "site")
    shutil.copy2(ROOT / "mkdocs.yml", site / "mkdocs.yml")
    (site / "posts").mkdir()
    for nb in notebooks:
        shutil.copy2(nb, site / "posts" / nb.name)
    return site


def setup_peer(folder: Path, notebooks: list[Path]) -> Path:
    site = folder / "peer"
    (site / "docs").mkdir(parents=True)
    (site / "mkdocs.yml").write_text(
        "site_name: Notebooks with mkdocs-jupyter\n"
        "theme:\n  name: material\n"
        "plugins:\n  - search\n  - mkdocs-jupyter:\n      cache: true\n",
        "utf-8",
    )
    (site / "docs" / "index.md").write_text("# Posts\n", "utf-8")
    for nb in notebooks:
        shutil.copy2(nb, site / "docs" / nb.name)
    return site


def setup_floor(folder: Path, notebooks: list[Path]) -> Path:
    """The Markdown and figures our converter makes, in the same site without our plugin."""
    from blog.convert import convert

    site = folder / "floor"
    shutil.copytree(ROOT / "site", site / "site")
    (site / "mkdocs.yml").write_text(
        _without_our_plugin((ROOT / "mkdocs.yml").read_text("utf-8")), "utf-8"
    )
    posts = site / "site" / "posts"
    posts.mkdir(exist_ok=True)
    # Our plugin writes the Demos page the nav links to; here it is a plain page.
    if not (site / "site" / "demos.md").exists():
        (site / "site" / "demos.md").write_text("# Demos\n\nNo demos yet.\n", "utf-8")
    for nb in notebooks:
        post = convert(nb)
        (posts / f"{nb.stem}.md").write_text(post.markdown, "utf-8")
        for name, content in post.assets.items():
            target = posts / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return site


def clear(site: Path, *names: str) -> None:
    for name in names:
        shutil.rmtree(site / name, ignore_errors=True)


def build(python: str, site: Path) -> float:
    """Wall time of `mkdocs build` in a fresh process, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEMOS_URL", "SITE_URL")}
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-m", "mkdocs", "build", "--quiet"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise SystemExit(f"bench/site.py: `mkdocs build` failed in {site} with {python}:\n{tail}")
    return seconds


def has_module(python: str, module: str) -> bool:
    try:
        return (
            subprocess.run(
                [python, "-c", f"import {module}"], capture_output=True, timeout=60
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


# --- the serve loop -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_path(name: str) -> str:
    """A post's address on the served site: `2025-03-04-post-007.ipynb` -> 2025/03/04/post-007/
    (mkdocs.yml's post_url_format "{date}/{slug}", the slug from the file name)."""
    stem = Path(name).stem
    return f"{stem[:10].replace('-', '/')}/{stem[11:]}/"


# No proxy from the environment: every request goes straight to the server on 127.0.0.1.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, timeout: float) -> str | None:
    """The page, or None while the server is not answering. The server holds a request until
    a rebuild in progress is done, so the timeout must outlast a rebuild."""
    try:
        with _LOCAL.open(url, timeout=timeout) as response:
            return response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return None


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base: str  # http://127.0.0.1:PORT/
    log: Path

    def failed(self, what: str) -> SystemExit:
        try:
            tail = "\n".join(self.log.read_text("utf-8", "replace").strip().splitlines()[-15:])
        except OSError:
            tail = "(no log)"
        return SystemExit(f"bench/site.py: `mkdocs serve` for {self.name}: {what}\n{tail}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server: SIGINT, then terminate, then kill, each after a timeout. SIGINT first
    because mkdocs serve then removes its temporary site folder (SIGTERM leaves it in /tmp)."""
    steps = [process.terminate, process.kill]
    if os.name == "posix":
        steps.insert(0, lambda: process.send_signal(signal.SIGINT))
    for ask in steps:
        if process.poll() is not None:
            return
        with contextlib.suppress(OSError):  # it ended meanwhile
            ask()
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_served(server: Server, path: str, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise server.failed(f"exited with {server.process.returncode} before serving")
        # A short timeout: the server binds only after its first build, so it answers at
        # once, and anything else on the port must not hold us past the server's exit.
        body = fetch(server.base + path, timeout=10)
        if body and text in body:
            return
        time.sleep(0.2)
    raise server.failed(f"{server.base}{path} did not show {text!r} within {seconds:.0f} s")


@contextlib.contextmanager
def serving(python: str, name: str, site: Path, log: Path, path: str):
    """`mkdocs serve` for a site on 127.0.0.1 and a free port, serving `path` when the block
    starts, and stopped however the block ends."""
    env = {k: v for k, v in os.environ.items() if k != "DEMOS_URL"}
    for attempt in range(3):
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        env |= {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": base}  # as tests/blog/test_blog_serve
        with open(log, "w", encoding="utf-8") as out:  # a file, not a pipe nobody reads
            process = subprocess.Popen(
                [python, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}"],
                cwd=site,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(name, process, base, log)
        try:
            wait_served(server, path, "Classifying", SERVE_START_TIMEOUT)
            break
        except BaseException:
            stop(process)
            # The free port can be taken between our check and the server's bind: retry.
            if attempt < 2 and "Address already in use" in log.read_text("utf-8", "replace"):
                continue
            raise
    try:
        yield server
    finally:
        stop(process)


def time_reload(server: Server, path: str, marker: str, target: Path, content: str) -> float:
    """Seconds from writing `content` to `target` until the served page shows `marker`."""
    url = server.base + path
    start = time.perf_counter()
    target.write_text(content, "utf-8")
    deadline = start + SERVE_RELOAD_TIMEOUT
    while True:
        body = fetch(url, timeout=max(1.0, deadline - time.perf_counter()))
        seconds = time.perf_counter() - start
        if body and marker in body:
            return seconds
        if server.process.poll() is not None:
            raise server.failed(f"exited with {server.process.returncode} after an edit")
        if seconds > SERVE_RELOAD_TIMEOUT:
            raise server.failed(f"{url} did not show the edit within {SERVE_RELOAD_TIMEOUT} s")
        time.sleep(SERVE_POLL)


def edited_post(
    key: str, site: Path, notebook_path: Path, index: int, marker: str, scratch: Path
) -> tuple[Path, str]:
    """The file an author saves and its new text, made before the clock starts: ours, the
    notebook with the marker in its prose; the floor, the page our converter makes of it."""
    import nbformat

    text = nbformat.writes(nbformat.from_dict(notebook(index, marker=marker)))
    if key == "serve_ours":
        return site / "posts" / notebook_path.name, text
    from blog.convert import convert

    # Same file name: the post's date and slug come from it.
    draft = scratch / notebook_path.name
    draft.write_text(text, "utf-8")
    return site / "site" / "posts" / f"{notebook_path.stem}.md", convert(draft).markdown


def measure_serve(
    args, folder: Path, sites: dict[str, Path], notebook_path: Path, index: int, progress=None
) -> dict[str, list[float]]:
    """Edit -> reload seconds per repeat for each site; both servers run at once and the
    edits alternate, so a busy machine slows both alike."""
    path = post_path(notebook_path.name)
    scratch = folder / "serve-scratch"  # outside every watched folder
    scratch.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[float]] = {key: [] for key in sites}
    with contextlib.ExitStack() as stack:
        servers = {}
        for key, site in sites.items():  # one after the other: no race for a free port
            servers[key] = stack.enter_context(
                serving(args.python, key, site, folder / f"{key}.log", path)
            )
            if progress is not None:
                progress.update(1)
        time.sleep(SERVE_SETTLE)
        for repeat in range(args.repeats + 1):  # the first round is the untimed warm-up
            for key, server in servers.items():
                marker = f"serve-edit-{uuid.uuid4().hex[:12]}"
                target, content = edited_post(
                    key, sites[key], notebook_path, index, marker, scratch
                )
                seconds = time_reload(server, path, marker, target, content)
                if repeat:
                    times[key].append(seconds)
                if progress is not None:
                    progress.update(1)
                time.sleep(SERVE_PAUSE)
    return times


# --- measuring ----------------------------------------------------------------------------

KEYS = (
    "ours_cold",
    "ours_rebuild",
    "floor",
    "peer_cold",
    "peer_rebuild",
    "serve_ours",
    "serve_floor",
)


def measure_size(args, work: Path, corpus: Path, size: int, with_peer: bool, progress=None) -> dict:
    folder = work / f"posts-{size}"
    notebooks = write_corpus(corpus, size)[:size]
    ours = setup_ours(folder, notebooks)
    floor = setup_floor(folder, notebooks)
    peer = setup_peer(folder, notebooks) if with_peer else None
    edited = size // 2  # the notebook the author changes before each rebuild
    times: dict[str, list[float]] = {k: [] for k in KEYS}

    def step(key: str, python: str, site: Path) -> None:
        times[key].append(build(python, site))
        if progress is not None:
            progress.update(1)

    if not args.skip_builds:
        build(args.python, floor)  # untimed: warms the disk cache and Python's bytecode
        if progress is not None:
            progress.update(1)
        for repeat in range(args.repeats):
            clear(ours, ".cache", "public")
            step("ours_cold", args.python, ours)
            if peer:
                clear(peer, ".cache", "site")
                step("peer_cold", args.peer_python, peer)
            for site in (ours, peer) if peer else (ours,):
                edit_notebook(
                    site / ("posts" if site is ours else "docs") / notebooks[edited].name,
                    edited,
                    repeat + 1,
                )
            # The floor right after our rebuild: the two figures the goal compares see the
            # same load on a shared machine.
            step("ours_rebuild", args.python, ours)
            step("floor", args.python, floor)
            if peer:
                step("peer_rebuild", args.peer_python, peer)
    if not args.skip_serve:
        times |= measure_serve(
            args,
            folder,
            {"serve_ours": ours, "serve_floor": floor},
            notebooks[edited],
            edited,
            progress,
        )
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    medians = {k: statistics.median(v) if v else None for k, v in times.items()}
    return medians | {"runs": {k: [round(t, 4) for t in v] for k, v in times.items() if v}}


def steps_per_size(args, with_peer: bool) -> int:
    """Progress-bar steps for one size, after its corpus is written."""
    count = 1  # the size is done
    if not args.skip_builds:
        count += 1 + args.repeats * (5 if with_peer else 3)
    if not args.skip_serve:
        count += 2 + 2 * (args.repeats + 1)  # two servers up, then the edits with a warm-up
    return count


def growth(sizes: list[int], seconds: list[float]) -> str:
    """How build time grows with posts: ms per extra post and the exponent of n."""
    if len(sizes) < 2:
        return "one size only"
    mean_n, mean_t = statistics.fmean(sizes), statistics.fmean(seconds)
    slope = sum((n - mean_n) * (t - mean_t) for n, t in zip(sizes, seconds, strict=True)) / sum(
        (n - mean_n) ** 2 for n in sizes
    )
    logs = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds, strict=True)]
    mean_x = statistics.fmean(x for x, _ in logs)
    mean_y = statistics.fmean(y for _, y in logs)
    exponent = sum((x - mean_x) * (y - mean_y) for x, y in logs) / sum(
        (x - mean_x) ** 2 for x, _ in logs
    )
    return (
        f"{seconds[0]:.2f} s at {sizes[0]} posts -> {seconds[-1]:.2f} s at {sizes[-1]}: "
        f"{slope * 1000:+.0f} ms per post, time ~ n^{exponent:.2f}"
    )


def peer_plan(args) -> tuple[bool, str]:
    """Whether mkdocs-jupyter is measured (in builds only), and the note saying why not."""
    if args.skip_builds:
        return False, "only the serve loop was measured (--skip-builds)"
    if args.skip_peer:
        return False, "mkdocs-jupyter skipped (--skip-peer)"
    if not has_module(args.peer_python, "mkdocs_jupyter"):
        return False, (
            f"mkdocs-jupyter is not installed for {args.peer_python}: pip install -e "
            "'.[bench]' (or pass --peer-python) to compare; only ours and the floor ran"
        )
    return True, ""


def main(argv=None) -> int:
    args = parse(argv)
    from tqdm import tqdm

    info = common.machine()
    with_peer, note = peer_plan(args)
    print(f"machine: {common.describe(info)}")
    print(
        f"posts {' '.join(map(str, args.sizes))}, {args.repeats} interleaved repeat(s), "
        f"median of each; ours with {args.python}"
        + (f", {PEER} with {args.peer_python}" if with_peer else "")
    )

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-site-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    total = max(args.sizes) + len(args.sizes) * steps_per_size(args, with_peer)
    try:
        with tqdm(total=total, desc="site builds", unit="step", file=sys.stderr) as bar:
            write_corpus(work / "corpus", max(args.sizes), bar)
            for size in sorted(args.sizes):
                bar.set_postfix_str(f"{size} posts")
                rows.append(
                    {"posts": size}
                    | measure_size(args, work, work / "corpus", size, with_peer, bar)
                )
                bar.update(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    columns = [
        (k, title)
        for k, title in (
            ("ours_cold", "ours cold"),
            ("ours_rebuild", "ours rebuild"),
            ("floor", "floor"),
            ("peer_cold", "mkdocs-jupyter cold"),
            ("peer_rebuild", "rebuild"),
            ("serve_ours", "serve ours"),
            ("serve_floor", "serve floor"),
        )
        if rows[0][k] is not None
    ]
    print(
        f"{'posts':>6}"
        + "".join(f"{title:>{len(title) + 2}}" for _, title in columns)
        + "   (seconds)"
    )
    for r in rows:
        print(f"{r['posts']:>6}" + "".join(f"{r[k]:>{len(title) + 2}.2f}" for k, title in columns))

    comparisons = []
    for r in rows:
        n = r["posts"]
        if r["peer_cold"] is not None:
            comparisons.append(
                common.comparison(
                    f"cold build, {n} posts",
                    r["ours_cold"],
                    r["peer_cold"],
                    peer_name=PEER,
                    unit="s",
                    at_most=COLD_GOAL,
                )
            )
        if r["ours_rebuild"] is not None:
            comparisons.append(
                common.comparison(
                    f"rebuild after editing one notebook, {n} posts",
                    r["ours_rebuild"],
                    r["floor"],
                    peer_name=FLOOR,
                    unit="s",
                    at_most=REBUILD_GOAL,
                )
            )
        if r["serve_ours"] is not None:
            comparisons.append(
                common.comparison(
                    f"serve: reload after editing one post, {n} posts",
                    r["serve_ours"],
                    r["serve_floor"],
                    peer_name=SERVE_FLOOR,
                    unit="s",
                    at_most=SERVE_GOAL,
                )
            )
    last = rows[-1]
    if last["peer_rebuild"] is not None:
        comparisons.append(
            common.comparison(
                f"rebuild after editing one notebook, {last['posts']} posts",
                last["ours_rebuild"],
                last["peer_rebuild"],
                peer_name=f"{PEER} rebuild",
                unit="s",
                goal="< 1 (no stated goal)",
                met=last["ours_rebuild"] < last["peer_rebuild"],
            )
        )
    for c in comparisons:
        print(common.line(c))

    sizes = [r["posts"] for r in rows]
    # Every timed build and reload, so a reader can see the spread behind each median.
    series = {
        "posts": sizes,
        "repeats": args.repeats,
        "runs": {str(r["posts"]): r["runs"] for r in rows},
    }
    for key in KEYS:
        if rows[0][key] is not None:
            series[key] = [round(r[key], 4) for r in rows]
            print(f"growth, {key.replace('_', ' ')}: {growth(sizes, series[key])}")
    if note:
        print(note)
        series["note"] = note
    common.RESULTS = args.results  # write_results reads it when called
    path = common.write_results("site", comparisons, series, info)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
