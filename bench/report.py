"""The site's Benchmarks page, from the results the benchmarks wrote.

    python bench/report.py          # bench/results/*.json -> site/benchmarks.md + plots

Reads every ``bench/results/<name>.json`` (written through ``bench/common.py``) and writes
``site/benchmarks.md``: one table per benchmark (what, ours, peer, ratio, goal, met), the
machine each was measured on and when, and PNG plots in ``site/assets/benchmarks/``: the
site build (and `mkdocs serve` reload) time against the number of posts, the in-browser
demo's prediction time and page weight (fp32 and int8), and every ratio against its goal.
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
TITLES = {
    "train": "Training",
    "train-cuda": "Training on a GPU",
    "site": "Site build",
    "demo": "Demo latency and start-up",
}
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
    "ONNX Runtime session; the int8 model (`model.int8.onnx`) against fastai's "
    "`learn.predict` and against the fp32 model's answers; and the in-browser page "
    "(`bench/demo.py`).",
}
# Added to the site's text when its results have the serve loop (older results don't).
SERVE_ABOUT = (
    "The serve figures run `mkdocs serve` on ours and on the floor and time an "
    "author's loop: from saving one edited post (ours: the notebook; the floor: its "
    "Markdown page) until the served page shows the edit, MkDocs' file-watch delay "
    "(up to 0.6 s, on both sides) and the whole rebuild included."
)
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
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--results", type=Path, default=common.RESULTS, help="folder of <benchmark>.json files"
    )
    p.add_argument(
        "--page",
        type=Path,
        default=ROOT / "site" / "benchmarks.md",
        help="the Markdown page to write",
    )
    p.add_argument(
        "--assets",
        type=Path,
        default=ROOT / "site" / "assets" / "benchmarks",
        help="folder for the PNG plots (inside the site's docs folder)",
    )
    p.add_argument(
        "--note",
        default="",
        help="a sentence for the page about how the figures were taken (for example "
        "a machine shared with other work); none by default",
    )
    return p.parse_args(argv)


def load(folder: Path) -> list[dict]:
    """Every results file in the folder, in page order."""
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ReportError(
                f"{path}: can't be read as JSON ({err}). Run the benchmark again "
                f"(python bench/{path.stem}.py) to rewrite it."
            ) from None
        if not isinstance(data, dict):
            data = {}
        missing = [k for k in ("benchmark", "machine", "comparisons") if k not in data]
        if missing:
            raise ReportError(
                f"{path}: not a results file (missing {', '.join(missing)}). "
                "Results are written by bench/common.py's write_results."
            )
        for i, c in enumerate(data["comparisons"]):
            lacking = [
                k
                for k in ("what", "ours", "peer", "peer_name", "unit", "ratio", "goal", "met")
                if k not in c
            ]
            if lacking:
                raise ReportError(
                    f"{path}: comparison {i} lacks {', '.join(lacking)}. "
                    "Rewrite it with bench/common.py's comparison()."
                )
        results.append(data)
    order = list(TITLES)
    results.sort(
        key=lambda d: (
            order.index(d["benchmark"]) if d["benchmark"] in order else len(order),
            d["benchmark"],
        )
    )
    return results


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "share":  # a fraction of a whole, e.g. images that agree
        return f"{value * 100:.1f}%"
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
    rows = [
        "| what | ours | peer | ratio (ours / peer) | goal | met |",
        "| --- | --: | --: | --: | --- | :-: |",
    ]
    for c in data["comparisons"]:
        ratio = f"{c['ratio']:.2f}×" if c["ratio"] is not None else "n/a"
        rows.append(
            f"| {c['what']} | {number(c['ours'], c['unit'])} | "
            f"{c['peer_name']}: {number(c['peer'], c['unit'])} | {ratio} | "
            f"{c['goal'].replace('>=', '≥').replace('<=', '≤')} | "
            f"{'yes' if c['met'] else '**no**'} |"
        )
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

    styles = {
        "ours_cold": ("tab:blue", "-"),
        "ours_rebuild": ("tab:blue", "--"),
        "floor": ("black", ":"),
        "peer_cold": ("tab:orange", "-"),
        "peer_rebuild": ("tab:orange", "--"),
        "serve_ours": ("tab:green", "-."),
        "serve_floor": ("grey", "-."),
    }
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for key, (color, style) in styles.items():
        if key in series:
            ax.plot(
                series["posts"],
                series[key],
                style,
                color=color,
                marker="o",
                label=SERIES_LABELS[key],
            )
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

    items = [
        (f"{TITLES.get(d['benchmark'], d['benchmark'])}: {c['what']}\nvs {c['peer_name']}", c)
        for d in results
        for c in d["comparisons"]
        if c["ratio"] is not None
    ]
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


def megabytes(value: float) -> str:
    return f"{value / 1e6:.2f} MB" if value < 1e6 else f"{value / 1e6:.1f} MB"


def int8_text(quality: dict) -> str:
    """The int8 model's accuracy beside fp32's, and how often their top labels agree."""
    text = (
        f"On the Learner's {quality['n_valid']} validation images (through the runtime: "
        f"decode, resize, model), the fp32 model is {quality['accuracy_fp32']:.1%} "
        f"accurate and the int8 model {quality['accuracy_int8']:.1%}; their top-1 labels "
        f"agree on {quality['agreement']:.1%} of the images."
    )
    quantiser = quality.get("quantiser") or {}
    if quantiser.get("calibration_images"):
        text += (
            f" The int8 model is {quantiser.get('method', 'static int8')}, calibrated on "
            f"{quantiser['calibration_images']} training images"
            + (f", {megabytes(quantiser['bytes'])}" if quantiser.get("bytes") else "")
            + "."
        )
    return text


def web_table(web: dict) -> str:
    """One row per model and precision: prediction, load, and the page weight's parts."""
    rows = [
        "| model | runs | prediction | of which decoding and preprocessing | load (open "
        "to ready) | page weight | runtime | model | page |",
        "| --- | --- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    files = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    for arch, sides in web["models"].items():
        for precision, f in sides.items():
            b = f["bytes"]
            asked = " *" if f.get("asked") else ""
            rows.append(
                f"| {arch} | {precision} (`{files.get(precision, precision)}`) | "
                f"{f['predict_s'] * 1000:.0f} ms | {f['preprocess_s'] * 1000:.0f} ms | "
                f"{f['load_s']:.2f} s{asked} | {megabytes(b['total'])} | "
                f"{megabytes(b['runtime'])} | {megabytes(b['model'])} | "
                f"{megabytes(b['page'])} |"
            )
    return "\n".join(rows)


def web_text(web: dict) -> list[str]:
    """The in-browser page's figures: how they were taken, the table, int8 against fp32."""
    settings = web.get("settings") or {}
    models = web["models"]
    version = settings.get("onnxruntime_web")
    runtime = f"ONNX Runtime Web {version}" if version else "ONNX Runtime Web"
    size = settings.get("size")
    out = [
        "### In the browser",
        "",
        f"The in-browser page (`python -m demos space NAME --static`) for "
        f"{' and '.join(models)}{f' at {size} px' if size else ''}, written twice: once "
        f"running `model.onnx` (fp32), once `model.int8.onnx`. Served from 127.0.0.1 "
        f"without cross-origin isolation headers, as GitHub Pages serves it, so {runtime} "
        f"runs on one thread (WebAssembly, SIMD), in headless Chromium. A prediction is "
        f"`window.demo.predict` on the same 500x375 JPEG, timed in the page: the browser "
        f"decodes the image, the page resizes and normalises it, runs the model and shows "
        f"the answer; median of {settings.get('rounds', '?')} interleaved rounds of "
        f"{settings.get('per_round', '?')}, after a warm-up. Load is from opening the page "
        f"in a fresh (uncached) context until its model is ready, median of "
        f"{settings.get('loads', '?')} (over 127.0.0.1, so the download costs almost "
        f"nothing here: over a real connection the page weight dominates the load); the "
        f"page weight is every response body until then.",
        "",
        web_table(web),
        "",
    ]
    if any(f.get("asked") for sides in models.values() for f in sides.values()):
        out += [
            "\\* The page asks before downloading a model over 30 MB; the benchmark "
            'clicks "Load the model" at once, so the time includes no waiting.',
            "",
        ]
    ratios = []
    for arch, sides in models.items():
        if "fp32" in sides and "int8" in sides:
            fp32, int8 = sides["fp32"], sides["int8"]
            ratios.append(
                f"{arch} {int8['predict_s'] / fp32['predict_s']:.2f}× the time "
                f"and {int8['bytes']['total'] / fp32['bytes']['total']:.2f}× the "
                f"download"
            )
    if ratios:
        out += ["int8 against fp32 in the page: " + "; ".join(ratios) + ".", ""]
    return out


def plot_web(web: dict, path: Path) -> None:
    """Prediction time per model, fp32 beside int8; page weight stacked by part."""
    import matplotlib.pyplot as plt

    models = web["models"]
    archs = list(models)
    precisions = ["fp32", "int8"]
    colours = {"fp32": "tab:blue", "int8": "tab:green"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    width = 0.38
    for i, precision in enumerate(precisions):
        xs = [a + (i - 0.5) * width for a in range(len(archs))]
        values = [
            models[arch][precision]["predict_s"] * 1000 if precision in models[arch] else 0
            for arch in archs
        ]
        bars = left.bar(xs, values, width, color=colours[precision], label=precision)
        left.bar_label(bars, fmt="%.0f", fontsize=8)
    left.set_xticks(range(len(archs)), archs)
    left.set_ylabel("ms per prediction (median)")
    left.set_title("Prediction in the browser, 1 thread")
    left.legend(fontsize=8)
    tallest = max(
        (f["predict_s"] * 1000 for sides in models.values() for f in sides.values()), default=1
    )
    left.set_ylim(0, tallest * 1.15)  # room for the bars' labels
    labels, parts = [], {"runtime": [], "model": [], "page": []}
    for arch in archs:
        for precision in precisions:
            if precision in models[arch]:
                labels.append(f"{arch} {precision}")
                for part in parts:
                    parts[part].append(models[arch][precision]["bytes"][part] / 1e6)
    left_edge = [0.0] * len(labels)
    for part, colour in zip(parts, ("tab:grey", "tab:orange", "tab:purple"), strict=True):
        right.barh(range(len(labels)), parts[part], left=left_edge, color=colour, label=part)
        left_edge = [a + b for a, b in zip(left_edge, parts[part], strict=True)]
    for y, total in enumerate(left_edge):
        right.text(total, y, f" {total:.1f}", va="center", fontsize=8)
    right.set_yticks(range(len(labels)), labels, fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("MB downloaded until the model is ready")
    right.set_title("Page weight")
    right.set_xlim(right=max(left_edge, default=1) * 1.15)
    right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def crowd_text(crowd) -> list[str]:
    """The crowd test's sentence, or nothing when it wasn't run."""
    if not isinstance(crowd, dict) or "p50" not in crowd:
        return []
    return [
        f"A crowd: {crowd['n']} simultaneous requests to our app (a class opening a shared "
        f"link; {crowd.get('concurrency')} at a time, up to {crowd.get('queue')} queued) were "
        f"all answered: p50 {crowd['p50']:.2f} s, p95 {crowd['p95']:.2f} s, slowest "
        f"{crowd['max']:.2f} s.",
        "",
    ]


def train_text(series: dict) -> str:
    """The training runs' error rates, and their images per second run by run."""
    rates = series["error_rate"]
    text = "Error rates: " + ", ".join(f"{k} {v:.4f}" for k, v in rates.items()) + "."
    runs = series.get("images_per_s_runs") or {}
    if series.get("repeats") and runs:
        text += (
            f" Medians of {series['repeats']} alternating runs; images per second in each run: "
            + "; ".join(
                f"{k} " + ", ".join(f"{v:.1f}" for v in values)
                for k, values in runs.items()
                if values
            )
            + "."
        )
    return text


def page(results: list[dict], images: dict[str, str], note: str = "") -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    out = [
        "# Benchmarks",
        "",
        "Speed is part of the product, so each part is measured against the tool people "
        "would pick instead, in the same run on the same machine. A ratio is ours / the "
        "peer's in the unit shown: for times lower is better, for throughputs higher is "
        "better; the goal says which way. Each figure is a median of several runs. "
        "`make bench` measures again and rewrites this page.",
        "",
    ]
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
        out += [
            f"Measured on {common.describe(data['machine'])}, on {created}.",
            "",
            table(data),
            "",
        ]
        series = data.get("series") or {}
        if name == "site" and "posts" in series:
            repeats = series.get("repeats")
            over = (
                f" of {repeats} interleaved repeat{'s' if repeats != 1 else ''}" if repeats else ""
            )
            out += [f"Median seconds{over}:", "", site_series_table(series), ""]
        if name.startswith("train") and isinstance(series.get("error_rate"), dict):
            out += [train_text(series), ""]
        if (
            name == "demo"
            and isinstance(series.get("int8"), dict)
            and "agreement" in series["int8"]
        ):
            text = int8_text(series["int8"])
            space_model = (series.get("settings") or {}).get("space_model")
            if space_model:
                text += (
                    f" The Space in the cold start runs `{space_model}`, the file the "
                    "bundle prefers."
                )
            out += [text, ""]
        if name in images:
            out += [f"![{TITLES.get(name, name)}]({images[name]})", ""]
        out += crowd_text(series.get("crowd") if name == "demo" else None)
        if name == "demo" and isinstance(series.get("web"), dict) and series["web"].get("models"):
            out += web_text(series["web"])
            if "demo-web" in images:
                out += [f"![In-browser prediction time and page weight]({images['demo-web']})", ""]
        if series.get("note"):
            out += [f"Note: {series['note'].rstrip('.')}.", ""]
        load = series.get("load_average")
        if name == "demo" and isinstance(load, dict) and series.get("wall_s"):
            out += [
                f"The run took {series['wall_s'] / 60:.1f} minutes; the machine's load "
                f"average was {load['start']:.1f} at its start and {load['end']:.1f} at its "
                f"end, on {data['machine'].get('cores', '?')} cores.",
                "",
            ]
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
        web = (data.get("series") or {}).get("web")
        if data["benchmark"] == "demo" and isinstance(web, dict) and web.get("models"):
            plot_web(web, assets / "demo-web.png")
            images["demo-web"] = f"{link}/demo-web.png"
            written.append(assets / "demo-web.png")
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
