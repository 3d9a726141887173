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

# {{ model_report("digits") }} on a line of its own, in a post or a page.
REPORT = re.compile(r"^[ \t]*\{\{\s*model_report\(\s*[\"']([\w.-]+)[\"']\s*\)\s*\}\}[ \t]*$",
                    re.MULTILINE)
REPORT_IMAGES = (("confusion.png", "Confusion matrix"), ("top_losses.png", "Top losses"),
                 ("lr_find.png", "Learning-rate finder"))


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
    servable: bool = False  # its ONNX weights are here, so the local demo server serves it
    space: str | None = None  # OWNER/NAME once deployed
    url: str | None = None  # the Space's page


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
            examples = [e.get("file") for e in data.get("examples", []) if isinstance(e, dict)]
            self.demos[name] = Demo(
                name=name,
                title=str(data.get("title") or name),
                description=str(data.get("description") or ""),
                task=str(data.get("task") or ""),
                metrics=data.get("metrics") if isinstance(data.get("metrics"), dict) else {},
                example=next((e for e in examples if e and (meta.parent / e).is_file()), None),
                report=[f for f, _ in REPORT_IMAGES if (meta.parent / "report" / f).is_file()],
                bundle=meta.parent,
                servable=(meta.parent / "model.onnx").is_file(),
            )

    def _load_registry(self) -> None:
        if not self.registry.is_file():
            return
        try:
            entries = json.loads(self.registry.read_text("utf-8"))
            if not isinstance(entries, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as err:
            self.problems.append(f"{self.registry}: can't be read ({err}); fix it or delete it "
                                 "and deploy again.")
            return
        for name, entry in entries.items():
            if not isinstance(entry, dict) or not entry.get("space"):
                self.problems.append(f"{self.registry}: entry `{name}` has no `space`.")
                continue
            demo = self.demos.setdefault(name, Demo(name=name, title=name))
            demo.space = str(entry["space"])
            demo.url = str(entry.get("url") or f"https://huggingface.co/spaces/{demo.space}")

    # --- what posts use -------------------------------------------------------------------

    def check(self, post: Path, name: str) -> None:
        if name not in self.demos:
            known = ", ".join(sorted(self.demos)) or "none yet"
            raise PostError(post, f"names `demo: {name}`, which is neither in "
                            f"{self.models_dir.name}/ nor deployed ({self.registry.name}).",
                            f"Known demos: {known}. Train it (python -m training …) or fix "
                            "the name.")

    def link(self, name: str) -> str | None:
        """Where the card points: the local demo server in preview, else the Space."""
        demo = self.demos.get(name)
        if demo is None:
            return None
        if self.local_url and demo.servable:
            return f"{self.local_url}{name}/"
        return demo.url

    def embed_src(self, name: str) -> str | None:
        demo = self.demos[name]
        if self.local_url and demo.servable:
            return f"{self.local_url}{name}/"
        if demo.space:
            # A Space's app runs on its own host: owner-name.hf.space, lower case, dashes.
            host = re.sub(r"[^a-z0-9]+", "-", demo.space.lower().replace("/", "-")).strip("-")
            return f"https://{host}.hf.space"
        return None

    def card(self, name: str, embed: bool) -> str:
        demo = self.demos[name]
        url = self.link(name)
        accuracy = demo.metrics.get("accuracy")
        detail = f" ({accuracy:.1%} accuracy on the validation set)" if isinstance(
            accuracy, (int, float)) else ""
        if url:
            line = (f"**Try the live demo:** [{_md(demo.title)}]({url})"
                    f"{{ .md-button .md-button--primary .demo-link }}{_md(detail)}")
        else:
            line = (f"**Demo:** {_md(demo.title)}{_md(detail)} is not deployed yet: run "
                    f"`python -m demos deploy {name} --space OWNER/{name}`.")
        parts = [f'<div class="demo-card" markdown>\n{line}\n</div>\n']
        src = self.embed_src(name) if embed else None
        if src:
            parts.append(f'<iframe class="demo-embed" src="{html.escape(src, quote=True)}" '
                         f'title="{html.escape(demo.title, quote=True)} demo" loading="lazy">'
                         "</iframe>\n")
        return "\n".join(parts)

    def report(self, name: str, page_dir: str, where: Path) -> str:
        demo = self.demos.get(name)
        if demo is None or demo.bundle is None:
            known = ", ".join(sorted(n for n, d in self.demos.items() if d.bundle)) or "none"
            raise PostError(where, f"`model_report(\"{name}\")` names no bundle in "
                            f"{self.models_dir.name}/.",
                            f"Bundles: {known}. Train the model first or fix the name.")
        rows = [("Accuracy", demo.metrics.get("accuracy"), "{:.2%}"),
                ("Error rate", demo.metrics.get("error_rate"), "{:.2%}"),
                ("Validation loss", demo.metrics.get("valid_loss"), "{:.4f}"),
                ("Validation images", demo.metrics.get("n_valid"), "{}")]
        lines = ['<div class="model-report" markdown>', "",
                 f"| {_md(demo.title)} | |", "| --- | --- |"]
        lines += [f"| {label} | {fmt.format(value)} |" for label, value, fmt in rows
                  if isinstance(value, (int, float))]
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
            lines.append("No demos yet: train a model with `python -m training digits`, then "
                         "`python -m demos serve` shows it here.")
        for demo in sorted(self.demos.values(), key=lambda d: d.name):
            lines += [f"## {_md(demo.title)}", ""]
            if demo.example:
                lines += [f"![An example for {_md(demo.title)}]"
                          f"({self.asset_link(demo.name, demo.example, '')})"
                          "{ .demo-example width=96 }", ""]
            if demo.description:
                lines += [_md(demo.description), ""]
            facts = [f"`{demo.name}`"]
            if demo.task:
                facts.append(demo.task)
            accuracy = demo.metrics.get("accuracy")
            if isinstance(accuracy, (int, float)):
                facts.append(f"{accuracy:.1%} accuracy")
            lines += [" · ".join(facts), ""]
            url = self.link(demo.name)
            if url:
                lines += [f"[Open the demo]({url}){{ .md-button }}", ""]
            else:
                lines += [f"Not deployed yet: `python -m demos deploy {demo.name} "
                          f"--space OWNER/{demo.name}`.", ""]
        return "\n".join(lines)


def replace_reports(markdown: str, render) -> str:
    """Replace each model_report line outside fenced code with `render(match)`."""
    out, fence = [], None
    for line in markdown.split("\n"):
        marker = line.strip()[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else (fence or marker)
        if fence is None:
            line = REPORT.sub(render, line)
        out.append(line)
    return "\n".join(out)


def _md(text: str) -> str:
    """Text safe to put in Markdown: no HTML, no link or emphasis syntax."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)
