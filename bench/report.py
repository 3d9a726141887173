"""The site's Benchmarks page, from the results the benchmarks wrote.

    python bench/report.py          # bench/results/*.json -> site/benchmarks.md + plots

Reads every ``bench/results/<name>.json`` (written through ``bench/common.py``) and writes
``site/benchmarks.md``: one table per benchmark (what, ours, peer, ratio, goal, met), the
machine each was measured on and when, and PNG plots in ``site/assets/benchmarks/``: the
site build (and `mkdocs serve` reload) time against the number of posts, and every ratio
against its goal.
Nothing is measured here: run ``make bench`` (or the scripts) first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):  # run as a script from anywhere in the repository
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import common  # noqa: E402

# Page order and headings; a results file with another name follows, titled by its name.
TITLES = {"train": "Training", "train-cuda": "Training on a GPU", "site": "Site build",
          "demo": "Demo latency and start-up"}
ABOUT = {
    "train": "Images per second of a whole `fine_tune` (data loading included) against "
             "fastai's, same images, architecture, size, batch and epochs (`bench/train.py`).",
    "train-cuda": "The same comparison on a CUDA GPU, both in bfloat16 mixed precision "
                  "(`bench/train.py --device cuda`).",
    "site": "`mkdocs build` of generated notebook posts (code, stdout, a figure and an HTML "
            "table each) by this blog and, as pages, by mkdocs-jupyter with its cache on. The "
            "floor is the same blog built from the Markdown our converter already produced, "
            "without our plugin: what the build costs with nothing to convert "
            "(`bench/site.py`).",
    "demo": "One prediction and the cold start of the demo app against fastai's and a bare "
            "ONNX Runtime session (`bench/demo.py`).",
}
# Added to the site's text when its results have the serve loop (older results don't).
SERVE_ABOUT = ("The serve figures run `mkdocs serve` on ours and on the floor and time an "
               "author's loop: from saving one edited post (ours: the notebook; the floor: its "
               "Markdown page) until the served page shows the edit, MkDocs' file-watch delay "
               "(up to 0.6 s, on both sides) and the whole rebuild included.")
SERIES_LABELS = {
    "ours_cold": "ours, cold build",
    "ours_rebuild": "ours, rebuild after editing one notebook",
    "floor": "floor: plain mkdocs build of the converted Markdown",
    "peer_cold": "mkdocs-jupyter, cold build",
    "peer_rebuild": "mkdocs-jupyter, rebuild after editing one notebook",
    "serve_ours": "ours, mkdocs serve reload after editing one post",
    "serve_floor": "floor: mkdocs serve reload after editing its Markdown page",
}


class ReportError(Exception):
    """A results file that can't be read; the message names it and the fix."""


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--results", type=Path, default=common.RESULTS,
                   help="folder of <benchmark>.json files")
    p.add_argument("--page", type=Path, default=ROOT / "site" / "benchmarks.md",
                   help="the Markdown page to write")
    p.add_argument("--assets", type=Path, default=ROOT / "site" / "assets" / "benchmarks",
                   help="folder for the PNG plots (inside the site's docs folder)")
    p.add_argument("--note", default="",
                   help="a sentence for the page about how the figures were taken (for example "
                        "a machine shared with other work); none by default")
    return p.parse_args(argv)


def load(folder: Path) -> list[dict]:
    """Every results file in the folder, in page order."""
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ReportError(f"{path}: can't be read as JSON ({err}). Run the benchmark again "
                              f"(python bench/{path.stem}.py) to rewrite it.") from None
        if not isinstance(data, dict):
            data = {}
        missing = [k for k in ("benchmark", "machine", "comparisons") if k not in data]
        if missing:
            raise ReportError(f"{path}: not a results file (missing {', '.join(missing)}). "
                              "Results are written by bench/common.py's write_results.")
        for i, c in enumerate(data["comparisons"]):
            lacking = [k for k in ("what", "ours", "peer", "peer_name", "unit", "ratio", "goal",
                                   "met") if k not in c]
            if lacking:
                raise ReportError(f"{path}: comparison {i} lacks {', '.join(lacking)}. "
                                  "Rewrite it with bench/common.py's comparison().")
        results.append(data)
    order = list(TITLES)
    results.sort(key=lambda d: (order.index(d["benchmark"]) if d["benchmark"] in order
                                else len(order), d["benchmark"]))
    return results


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s" and value < 1:
        return f"{value * 1000:.3g} ms"
    if abs(value) >= 1000:  # 2,417 images/s, not 2.42e+03
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def goal_target(goal: str) -> tuple[str, float] | None:
    """`"<= 0.5"` -> ("<=", 0.5); a goal without a leading comparison has no target."""
    match = re.match(r"\s*(<=|>=|<|>)\s*([0-9.]+)", goal)
    return (match[1], float(match[2])) if match else None


def table(data: dict) -> str:
    rows = ["| what | ours | peer | ratio (ours / peer) | goal | met |",
            "| --- | --: | --: | --: | --- | :-: |"]
    for c in data["comparisons"]:
        ratio = f"{c['ratio']:.2f}×" if c["ratio"] is not None else "n/a"
        rows.append(f"| {c['what']} | {number(c['ours'], c['unit'])} | "
                    f"{c['peer_name']}: {number(c['peer'], c['unit'])} | {ratio} | "
                    f"{c['goal'].replace('>=', '≥').replace('<=', '≤')} | "
                    f"{'yes' if c['met'] else '**no**'} |")
    return "\n".join(rows)


def site_series_table(series: dict) -> str:
    keys = [k for k in SERIES_LABELS if k in series]
    head = "| posts | " + " | ".join(SERIES_LABELS[k] for k in keys) + " |"
    rows = [head, "| --: |" + " --: |" * len(keys)]
    for i, n in enumerate(series["posts"]):
        rows.append(f"| {n} | " + " | ".join(f"{series[k][i]:.2f} s" for k in keys) + " |")
    return "\n".join(rows)


def plot_site(series: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    styles = {"ours_cold": ("tab:blue", "-"), "ours_rebuild": ("tab:blue", "--"),
              "floor": ("black", ":"), "peer_cold": ("tab:orange", "-"),
              "peer_rebuild": ("tab:orange", "--"), "serve_ours": ("tab:green", "-."),
              "serve_floor": ("grey", "-.")}
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for key, (color, style) in styles.items():
        if key in series:
            ax.plot(series["posts"], series[key], style, color=color, marker="o",
                    label=SERIES_LABELS[key])
    ax.set_xlabel("number of notebook posts")
    # Serve reloads share the axis: both are seconds an author waits, build vs live reload.
    ax.set_ylabel("seconds (median)")
    ax.set_title("Site build and mkdocs serve reload time")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_ratios(results: list[dict], path: Path) -> None:
    """One bar per comparison (ours / peer), with its goal as a tick; green when met."""
    import matplotlib.pyplot as plt

    items = [(f"{TITLES.get(d['benchmark'], d['benchmark'])}: {c['what']}\nvs {c['peer_name']}",
              c) for d in results for c in d["comparisons"] if c["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.5 * max(len(items), 1)), dpi=100)
    for y, (_, c) in enumerate(items):
        ax.barh(y, c["ratio"], color="tab:green" if c["met"] else "tab:red", alpha=0.8)
        target = goal_target(c["goal"])
        if target:
            ax.plot([target[1]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.axvline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yticks(range(len(items)), [label for label, _ in items], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ours / peer (green: goal met, red: missed; black tick: goal)")
    ax.set_title("Ratios against goals")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def page(results: list[dict], images: dict[str, str], note: str = "") -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    out = ["# Benchmarks", "",
           "Speed is part of the product, so each part is measured against the tool people "
           "would pick instead, in the same run on the same machine. A ratio is ours / the "
           "peer's in the unit shown: for times lower is better, for throughputs higher is "
           "better; the goal says which way. Each figure is a median of several runs. "
           "`make bench` measures again and rewrites this page.", ""]
    if note:
        out += [f"!!! note\n\n    {note}", ""]
    if not results:
        out += ["No results yet: run `make bench`.", ""]
    if "ratios" in images:
        out += [f"![Every ratio against its goal]({images['ratios']})", ""]
    for data in results:
        name = data["benchmark"]
        created = str(data.get("created", "an unknown date"))[:10]
        out += [f"## {TITLES.get(name, name.title())}", ""]
        if name in ABOUT:
            serve = name == "site" and "serve_ours" in (data.get("series") or {})
            out += [ABOUT[name] + (f" {SERVE_ABOUT}" if serve else ""), ""]
        out += [f"Measured on {common.describe(data['machine'])}, on {created}.", "",
                table(data), ""]
        series = data.get("series") or {}
        if name == "site" and "posts" in series:
            repeats = series.get("repeats")
            over = (f" of {repeats} interleaved repeat{'s' if repeats != 1 else ''}"
                    if repeats else "")
            out += [f"Median seconds{over}:",
                    "", site_series_table(series), ""]
        if name.startswith("train") and isinstance(series.get("error_rate"), dict):
            rates = series["error_rate"]
            text = "Error rates: " + ", ".join(f"{k} {v:.4f}" for k, v in rates.items()) + "."
            runs = series.get("images_per_s_runs") or {}
            if series.get("repeats") and runs:
                text += (f" Medians of {series['repeats']} alternating runs; images per second "
                         "in each run: " + "; ".join(
                             f"{k} " + ", ".join(f"{v:.1f}" for v in values)
                             for k, values in runs.items() if values) + ".")
            out += [text, ""]
        if name in images:
            out += [f"![{TITLES.get(name, name)}]({images[name]})", ""]
        if series.get("note"):
            out += [f"Note: {series['note'].rstrip('.')}.", ""]
    out += [f"*Page generated on {today} by `bench/report.py`.*", ""]
    return "\n".join(out)


def write(results_dir: Path, page_path: Path, assets: Path, note: str = "") -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display on a build machine
    results = load(results_dir)
    assets.mkdir(parents=True, exist_ok=True)
    link = os.path.relpath(assets, page_path.parent).replace(os.sep, "/")
    images, written = {}, []
    if any(c["ratio"] is not None for d in results for c in d["comparisons"]):
        plot_ratios(results, assets / "ratios.png")
        images["ratios"] = f"{link}/ratios.png"
        written.append(assets / "ratios.png")
    for data in results:
        if data["benchmark"] == "site" and "posts" in (data.get("series") or {}):
            plot_site(data["series"], assets / "site-build.png")
            images["site"] = f"{link}/site-build.png"
            written.append(assets / "site-build.png")
    page_path.parent.mkdir(parents=True, exist_ok=True)
    page_path.write_text(page(results, images, note), "utf-8")
    return [page_path, *written]


def main(argv=None) -> int:
    args = parse(argv)
    try:
        written = write(args.results, args.page, args.assets, args.note)
    except ReportError as err:
        print(f"bench/report.py: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
