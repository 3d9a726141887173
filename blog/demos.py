"""Posts and model demos: the demo card, the model report directive and the Demos page.

The blog reads only files here: ``demos.json`` (written by ``python -m demos deploy``: which
Space serves each model) and each bundle's ``model.json`` and ``report/`` in ``models/``. It never
imports the ``demos`` or ``training`` packages, so the site still builds with the ``site`` extra
alone. The Markdown it returns is plain text for any generator; links are relative to the page.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PostError
from .fences import code_lines

# {{ model_report("digits") }} on a line of its own, in a post or a page.
REPORT = re.compile(
    r"^[ \t]*\{\{\s*model_report\(\s*[\"']([\w.-]+)[\"']\s*\)\s*\}\}[ \t]*$", re.MULTILINE
)
# The in-browser demo pages: demos/NAME/ of the site, sharing one copy of their scripts and
# of ONNX Runtime Web's files (copied from node_modules, see RUNTIME_FILES).
WEB_ROOT = "demos"
ASSETS_DIR = "assets/demo"
RUNTIME_DIR = "assets/onnxruntime-web"
PAGE_ASSETS = ("demo.js", "preprocess.mjs", "demo.css")
# onnxruntime-web's WebAssembly build only (no WebGPU/WebGL): the module, its loader and the
# SIMD+threads binary, about 14 MB.
RUNTIME_PACKAGE = "onnxruntime-web"
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
REPORT_IMAGES = (
    ("confusion.png", "Confusion matrix"),
    ("top_losses.png", "Top losses"),
    ("lr_find.png", "Learning-rate finder"),
)


@dataclass
class Demo:
    name: str
    title: str = ""
    description: str = ""
    task: str = ""
    metrics: dict = field(default_factory=dict)
    example: str | None = None  # path inside the bundle, e.g. examples/3_0.png
    report: list[str] = field(default_factory=list)  # report images that exist
    bundle: Path | None = None  # None: deployed, but no bundle in models/
    servable: bool = False  # its weights are here, so the local demo server serves it
    web_model: str | None = None  # the ONNX file the in-browser page runs (None: no page)
    web_precision: str = "fp32"
    int8_accuracy: float | None = None  # model.int8.onnx's own validation accuracy
    examples: list[str] = field(default_factory=list)  # the example files that exist
    space: str | None = None  # OWNER/NAME once deployed
    url: str | None = None  # the Space's page
    app_url: str | None = None  # the app's own host (OWNER-NAME.hf.space), as deploy recorded it


class DemoIndex:
    """What the site knows of each demo, from ``models/`` and ``demos.json``."""

    def __init__(self, models_dir: Path, registry: Path, local_url: str | None = None):
        self.models_dir = models_dir
        self.registry = registry
        self.local_url = local_url.rstrip("/") + "/" if local_url else None
        self.demos: dict[str, Demo] = {}
        self.problems: list[str] = []
        self._load_bundles()
        self._load_registry()

    def _load_bundles(self) -> None:
        if not self.models_dir.is_dir():
            return
        for meta in sorted(self.models_dir.glob("*/model.json")):
            name = meta.parent.name
            if name.startswith("."):  # an export's temporary or previous copy
                continue
            try:
                data = json.loads(meta.read_text("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as err:
                self.problems.append(f"{meta}: can't be read ({err}); export the model again.")
                continue
            listed = [e.get("file") for e in data.get("examples") or [] if isinstance(e, dict)]
            examples = [e for e in listed if isinstance(e, str) and (meta.parent / e).is_file()]
            metrics = data.get("metrics")
            self.demos[name] = Demo(
                name=name,
                title=str(data.get("title") or name),
                description=str(data.get("description") or ""),
                task=str(data.get("task") or ""),
                metrics=metrics if isinstance(metrics, dict) else {},
                example=examples[0] if examples else None,
                examples=examples,
                report=[f for f, _ in REPORT_IMAGES if (meta.parent / "report" / f).is_file()],
                bundle=meta.parent,
            )
            demo = self.demos[name]
            demo.web_model, demo.web_precision = web_model(meta.parent, data)
            # The local demo server runs the same ONNX file (or the PyTorch weights).
            demo.servable = (
                demo.web_model is not None or (meta.parent / "model.safetensors").is_file()
            )
            int8 = data.get("int8")
            if not isinstance(int8, dict):
                int8 = {}
            if isinstance(int8.get("accuracy"), (int, float)):
                demo.int8_accuracy = float(int8["accuracy"])

    def _load_registry(self) -> None:
        if not self.registry.is_file():
            return
        try:
            entries = json.loads(self.registry.read_text("utf-8"))
            if not isinstance(entries, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as err:
            self.problems.append(
                f"{self.registry}: can't be read ({err}); fix it or delete it and deploy again."
            )
            return
        for name, entry in entries.items():
            if not isinstance(entry, dict) or not entry.get("space"):
                self.problems.append(f"{self.registry}: entry `{name}` has no `space`.")
                continue
            demo = self.demos.setdefault(name, Demo(name=name, title=name))
            demo.space = str(entry["space"])
            demo.url = str(entry.get("url") or f"https://huggingface.co/spaces/{demo.space}")
            # Only `deploy` knows the app's host (it asks the Hub); an older demos.json has none.
            app_url = entry.get("app_url")
            demo.app_url = (
                app_url if isinstance(app_url, str) and app_url.startswith("https://") else None
            )

    # --- what posts use -------------------------------------------------------------------

    def check(self, post: Path, name: str) -> None:
        if name not in self.demos:
            known = ", ".join(sorted(self.demos)) or "none yet"
            raise PostError(
                post,
                f"names `demo: {name}`, which is neither in "
                f"{self.models_dir.name}/ nor deployed ({self.registry.name}).",
                f"Known demos: {known}. Train it (python -m training …) or fix the name.",
            )

    def link(self, name: str) -> str | None:
        """The Gradio app: the local demo server in preview, else the Space."""
        demo = self.demos.get(name)
        if demo is None:
            return None
        if self.local_url and demo.servable:
            return f"{self.local_url}{name}/"
        return demo.url

    def page_uri(self, name: str) -> str | None:
        """The in-browser demo page, relative to the docs folder (None: no ONNX file here)."""
        demo = self.demos.get(name)
        return f"{WEB_ROOT}/{name}/index.html" if demo and demo.web_model else None

    def page_link(self, name: str, page_dir: str) -> str | None:
        uri = self.page_uri(name)
        return posixpath.relpath(uri, page_dir or ".") if uri else None

    def embed_src(self, name: str, page_dir: str = "") -> str | None:
        demo = self.demos[name]
        if demo.web_model:
            # The in-browser page, in an iframe: it keeps its own scripts out of the blog's
            # (Material's instant navigation never touches it).
            return self.page_link(name, page_dir)
        if self.local_url and demo.servable:
            return f"{self.local_url}{name}/"
        if demo.space:
            # The app's own host as `deploy` recorded it; never derived here (the Hub's rule is
            # undocumented). A demos.json from before app_url gets no embed, only the card's
            # link: the Hub's own Space page is not made to sit in another site's frame.
            return demo.app_url
        return None

    def card(self, name: str, embed: bool, page_dir: str = "") -> str:
        demo = self.demos[name]
        page = self.page_link(name, page_dir)
        url = self.link(name)
        accuracy = demo.metrics.get("accuracy")
        detail = (
            f" ({accuracy:.1%} accuracy on the validation set)"
            if isinstance(accuracy, (int, float))
            else ""
        )
        server = (
            "Run it on the local demo server"
            if self.local_url and demo.servable and url and url.startswith(self.local_url)
            else "Run it on Hugging Face Spaces"
        )
        if page:
            line = (
                f"**Try the live demo:** [{_md(demo.title)}]({page})"
                f"{{ .md-button .md-button--primary .demo-link }}{_md(detail)}. "
                "It runs in your browser."
            )
            if url:
                line += f" [{server}]({url}){{ .demo-space }}"
        elif url:
            line = (
                f"**Try the live demo:** [{_md(demo.title)}]({url})"
                f"{{ .md-button .md-button--primary .demo-link }}{_md(detail)}"
            )
        else:
            line = (
                f"**Demo:** {_md(demo.title)}{_md(detail)} is not deployed yet: run "
                f"`python -m demos deploy {name} --space OWNER/{name}`."
            )
        parts = [f'<div class="demo-card" markdown>\n{line}\n</div>\n']
        src = self.embed_src(name, page_dir) if embed else None
        if src:
            parts.append(
                f'<iframe class="demo-embed" src="{html.escape(src, quote=True)}" '
                f'title="{html.escape(demo.title, quote=True)} demo" loading="lazy">'
                "</iframe>\n"
            )
        return "\n".join(parts)

    def report(self, name: str, page_dir: str, where: Path) -> str:
        demo = self.demos.get(name)
        if demo is None or demo.bundle is None:
            known = ", ".join(sorted(n for n, d in self.demos.items() if d.bundle)) or "none"
            raise PostError(
                where,
                f'`model_report("{name}")` names no bundle in {self.models_dir.name}/.',
                f"Bundles: {known}. Train the model first or fix the name.",
            )
        rows = [
            ("Accuracy", demo.metrics.get("accuracy"), "{:.2%}"),
            (
                "Accuracy of the int8 model (the web demo's when within 0.5 points)",
                demo.int8_accuracy,
                "{:.2%}",
            ),
            ("Error rate", demo.metrics.get("error_rate"), "{:.2%}"),
            ("Validation loss", demo.metrics.get("valid_loss"), "{:.4f}"),
            ("Validation images", demo.metrics.get("n_valid"), "{}"),
        ]
        lines = [
            '<div class="model-report" markdown>',
            "",
            f"| {_md(demo.title)} | |",
            "| --- | --- |",
        ]
        lines += [
            f"| {label} | {fmt.format(value)} |"
            for label, value, fmt in rows
            if isinstance(value, (int, float))
        ]
        lines.append("")
        for file, label in REPORT_IMAGES:
            if file in demo.report:
                lines += [f"![{label}]({self.asset_link(name, 'report/' + file, page_dir)})", ""]
        lines.append("</div>")
        return "\n".join(lines) + "\n"

    def asset_uri(self, name: str, rel: str) -> str:
        """Where a bundle file is published, relative to the docs folder."""
        return f"models/{name}/{rel}"

    def asset_link(self, name: str, rel: str, page_dir: str) -> str:
        return posixpath.relpath(self.asset_uri(name, rel), page_dir or ".")

    def published_assets(self) -> dict[str, Path]:
        """Files to add to the site: report images and the example shown on the Demos page."""
        out: dict[str, Path] = {}
        for demo in self.demos.values():
            if demo.bundle is None:
                continue
            for file in demo.report:
                out[self.asset_uri(demo.name, f"report/{file}")] = demo.bundle / "report" / file
            if demo.example:
                out[self.asset_uri(demo.name, demo.example)] = demo.bundle / demo.example
        return out

    def page(self) -> str:
        """The Demos page: every demo with its task, metrics, an example image and its link."""
        lines = ["# Demos", ""]
        if not self.demos:
            lines.append(
                "No demos yet: train a model with `python -m training digits`, then "
                "`python -m demos serve` shows it here."
            )
        for demo in sorted(self.demos.values(), key=lambda d: d.name):
            lines += [f"## {_md(demo.title)}", ""]
            if demo.example:
                lines += [
                    f"![An example for {_md(demo.title)}]"
                    f"({self.asset_link(demo.name, demo.example, '')})"
                    "{ .demo-example width=96 }",
                    "",
                ]
            if demo.description:
                lines += [_md(demo.description), ""]
            facts = [f"`{demo.name}`"]
            if demo.task:
                facts.append(demo.task)
            accuracy = demo.metrics.get("accuracy")
            if isinstance(accuracy, (int, float)):
                facts.append(f"{accuracy:.1%} accuracy")
            lines += [" · ".join(facts), ""]
            page = self.page_link(demo.name, "")
            url = self.link(demo.name)
            buttons = []
            if page:
                buttons.append(
                    f"[Try it in your browser]({page}){{ .md-button "
                    ".md-button--primary .demo-page }}"
                )
            if url:
                buttons.append(f"[Open the Gradio app]({url}){{ .md-button }}")
            if buttons:
                lines += [" ".join(buttons), ""]
            if not url:
                lines += [
                    f"Not on Hugging Face yet: `python -m demos deploy {demo.name} "
                    f"--space OWNER/{demo.name}`.",
                    "",
                ]
            if demo.bundle is not None and not page:
                lines += [
                    f"No in-browser demo: `{self.models_dir.name}/{demo.name}/` has no "
                    "ONNX model here (it is git-ignored). Train it again, or commit "
                    "`model.int8.onnx`.",
                    "",
                ]
        return "\n".join(lines)

    def web_files(self, web_dir: Path, site_root: str) -> tuple[dict[str, Path], dict[str, str]]:
        """The in-browser demo pages: files copied as they are, and files written here.

        `site_root` is the runtime's folder relative to the docs folder (RUNTIME_DIR)."""
        copied: dict[str, Path] = {}
        written: dict[str, str] = {}
        demos = [d for d in self.demos.values() if d.web_model and d.bundle is not None]
        if not demos:
            return copied, written
        for asset in PAGE_ASSETS:
            copied[f"{ASSETS_DIR}/{asset}"] = web_dir / asset
        template = (web_dir / "index.html").read_text("utf-8")
        for demo in demos:
            bundle, model = demo.bundle, demo.web_model
            assert bundle is not None and model is not None  # `demos` keeps only these
            folder = f"{WEB_ROOT}/{demo.name}"
            up = "../" * (folder.count("/") + 1)
            copied[f"{folder}/model.json"] = bundle / "model.json"
            copied[f"{folder}/{model}"] = bundle / model
            for file in demo.examples:
                copied[f"{folder}/{file}"] = bundle / file
            report = [f"report/{f}" for f in demo.report if f != "lr_find.png"]
            for file in report:
                copied[f"{folder}/{file}"] = bundle / file
            written[f"{folder}/index.html"] = render_page(
                template,
                {"name": demo.name, "title": demo.title, "description": demo.description},
                {
                    "ort": f"{up}{site_root}/",
                    "model": model,
                    "precision": demo.web_precision,
                    "bytes": (bundle / model).stat().st_size,
                    "space": demo.url,
                    "report": report,
                    "home": up,
                },
                f"{up}{ASSETS_DIR}/",
            )
        return copied, written


def web_model(bundle: Path, meta: dict) -> tuple[str | None, str]:
    """The ONNX file the in-browser page runs, and its precision: model.int8.onnx where
    training recorded it as preferred (as demos/runtime.py's `onnx_file` decides), else
    model.onnx; None when neither file is here (weights are git-ignored)."""
    int8 = meta.get("int8")
    if not isinstance(int8, dict):
        int8 = {}
    file = int8.get("file")
    if int8.get("preferred") is True and isinstance(file, str) and (bundle / file).is_file():
        return file, "int8"
    if (bundle / "model.onnx").is_file():
        return "model.onnx", "fp32"
    return None, "fp32"


def render_page(template: str, meta: dict, config: dict, assets: str) -> str:
    """demos/web/index.html with the page's settings filled in."""
    title = str(meta.get("title") or meta.get("name") or "Demo")
    settings = json.dumps(config).replace("</", "<\\/")  # safe inside <script>
    return (
        template.replace("{{TITLE}}", html.escape(title))
        .replace("{{DESCRIPTION}}", html.escape(str(meta.get("description") or "")))
        .replace("{{ASSETS}}", html.escape(assets, quote=True))
        .replace("{{CONFIG}}", settings)
    )


def replace_reports(markdown: str, render) -> str:
    """Replace each model_report line outside fenced code with `render(match)`."""
    lines = markdown.split("\n")
    return "\n".join(
        line if code else REPORT.sub(render, line)
        for line, code in zip(lines, code_lines(lines), strict=True)
    )


def _md(text: str) -> str:
    """Text safe to put in Markdown: no HTML, no link or emphasis syntax."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)
