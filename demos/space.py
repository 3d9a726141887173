"""Write a self-contained Hugging Face Space folder for one bundle.

The folder holds app.py (a few lines that import nothing from this repository), a copy of
demos/runtime.py, requirements.txt pinned to the versions the bundle was exported with
(without torch: the Space runs the ONNX model), README.md with the Spaces YAML header,
and the model files (model.json, model.onnx, examples/). It runs on CPU hardware and on
ZeroGPU alike: the prediction is wrapped with `spaces.GPU` when the `spaces` package is
importable (it is on every Hugging Face Space) and runs plainly otherwise.

Example:

    python -m demos space digits --out build/spaces/digits --hardware zero-a10g --docker
    cd build/spaces/digits && pip install -r requirements.txt && python app.py
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from demos.errors import DemosError

DEFAULT_MODELS = Path("models")
HARDWARE_CHOICES = ("cpu-basic", "zero-a10g")
# Free accounts can only run Gradio Spaces on ZeroGPU since 2026; CPU needs PRO.
DEFAULT_HARDWARE = "zero-a10g"
DEFAULT_LICENSE = "apache-2.0"  # the project's own licence; --license changes it
# The Hub's limit for the card's one-line description.
SHORT_DESCRIPTION_MAX = 60
# What the Space's runtime imports, mapped to the key in model.json's `versions` that
# records the version used at export. torch is deliberately absent (ONNX backend only).
REQUIREMENTS = {
    "gradio": "gradio",
    "onnxruntime": "onnxruntime",
    "numpy": "numpy",
    "Pillow": "pillow",
}
RUNTIME_SOURCE = Path(__file__).with_name("runtime.py")
# The bundle files the Space needs; model.safetensors stays behind (no torch on the Space).
MODEL_FILES = ("model.json", "model.onnx")
# The in-browser page (demos/web/) and the ONNX Runtime Web files it loads (from npm).
WEB_SOURCE = Path(__file__).with_name("web")
WEB_ASSETS = ("demo.js", "preprocess.mjs", "demo.css")
RUNTIME_PACKAGE = "onnxruntime-web"
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
# A static Space may send these: the page is then cross-origin isolated and ONNX Runtime Web
# can use two threads (GitHub Pages can't send them, so the blog's copy runs on one).
ISOLATION_HEADERS = {
    "cross-origin-embedder-policy": "require-corp",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "cross-origin",
}
# Kept out of the Docker build context: nothing the container needs.
DOCKERIGNORE = "__pycache__/\n*.pyc\n.git/\n.gitattributes\nDockerfile\n.dockerignore\n"


class SpaceError(DemosError):
    """A Space folder can't be written; the message names the file and the fix."""


@dataclass(frozen=True)
class SpaceFolder:
    """What `build_space` wrote."""

    path: Path
    name: str
    files: tuple[str, ...]  # relative paths, sorted
    requirements: dict[str, str]  # distribution -> pinned version


def build_space(
    name: str,
    out: str | Path,
    *,
    models: str | Path = DEFAULT_MODELS,
    hardware: str = DEFAULT_HARDWARE,
    docker: bool = False,
    license: str = DEFAULT_LICENSE,  # noqa: A002 (the Spaces YAML field's name)
) -> SpaceFolder:
    """Write the Space folder for bundle `models/NAME` to `out` and return what was written.

    The bundle is loaded with the demo runtime first, so a broken bundle fails here with
    the runtime's message instead of on the Hub. `out` is replaced as a whole (written to a
    temporary folder next to it, then renamed), so it never mixes two versions.
    """
    if hardware not in HARDWARE_CHOICES:
        raise SpaceError(
            f"Unknown hardware {hardware!r}: choose one of {', '.join(HARDWARE_CHOICES)}."
        )
    bundle = Path(models) / name
    meta = _read_bundle(bundle)
    out = Path(out)
    _check_out(out, bundle)
    if not RUNTIME_SOURCE.is_file():
        raise SpaceError(f"{RUNTIME_SOURCE} is missing: the demos package is incomplete.")

    with _staged(out) as staging:
        requirements = _requirements(meta)
        _copy_model_files(bundle, meta, staging)
        shutil.copy2(RUNTIME_SOURCE, staging / "runtime.py")
        (staging / "app.py").write_text(app_source(meta), encoding="utf-8")
        (staging / "requirements.txt").write_text(
            "".join(f"{dist}=={version}\n" for dist, version in requirements.items()),
            encoding="utf-8",
        )
        readme = readme_source(
            meta, gradio_version=requirements["gradio"], hardware=hardware, license=license
        )
        (staging / "README.md").write_text(readme, encoding="utf-8")
        if docker:
            python = _python_minor(meta)
            (staging / "Dockerfile").write_text(dockerfile_source(python), encoding="utf-8")
            (staging / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
    return SpaceFolder(path=out, name=meta["name"], files=_listing(out), requirements=requirements)


def build_static_space(
    name: str,
    out: str | Path,
    *,
    models: str | Path = DEFAULT_MODELS,
    node_modules: str | Path | None = None,
    license: str = DEFAULT_LICENSE,  # noqa: A002 (the Spaces YAML field's name)
) -> SpaceFolder:
    """Write the in-browser demo page for `models/NAME` as a static Space folder.

    A static Space (`sdk: static`) is free on every account and never sleeps: the model
    runs in the visitor's browser with ONNX Runtime Web, copied from `node_modules` (`npm
    ci`). Checked and replaced as a whole, like `build_space`.
    """
    bundle = Path(models) / name
    meta = _read_bundle(bundle)
    from demos import runtime

    model_file = runtime.onnx_file(bundle, meta)
    ort = _runtime_folder(node_modules)
    out = Path(out)
    _check_out(out, bundle)
    with _staged(out) as staging:
        shutil.copy2(bundle / "model.json", staging / "model.json")
        shutil.copy2(bundle / model_file, staging / model_file)
        _copy_examples(bundle, meta, staging)
        report = [f"report/{f}" for f in ("confusion.png", "top_losses.png")
                  if (bundle / "report" / f).is_file()]
        for file in report:
            (staging / "report").mkdir(exist_ok=True)
            shutil.copy2(bundle / file, staging / file)
        for asset in WEB_ASSETS:
            shutil.copy2(WEB_SOURCE / asset, staging / asset)
        (staging / "ort").mkdir()
        for file in RUNTIME_FILES:
            shutil.copy2(ort / file, staging / "ort" / file)
        config = {
            "ort": "ort/",
            "model": model_file,
            "precision": "int8" if model_file != "model.onnx" else "fp32",
            "bytes": (bundle / model_file).stat().st_size,
            "space": None,
            "report": report,
            "home": meta.get("post") if str(meta.get("post") or "").startswith("http") else None,
        }
        template = (WEB_SOURCE / "index.html").read_text(encoding="utf-8")
        (staging / "index.html").write_text(render_page(template, meta, config, "./"),
                                            encoding="utf-8")
        (staging / "README.md").write_text(static_readme_source(meta, license=license),
                                           encoding="utf-8")
    return SpaceFolder(path=out, name=meta["name"], files=_listing(out), requirements={})


def render_page(template: str, meta: dict, config: dict, assets: str) -> str:
    """demos/web/index.html with its settings filled in (the blog's build does the same)."""
    title = str(meta.get("title") or meta.get("name") or "Demo")
    settings = json.dumps(config).replace("</", "<\\/")  # safe inside <script>
    return (template.replace("{{TITLE}}", html.escape(title))
            .replace("{{DESCRIPTION}}", html.escape(str(meta.get("description") or "")))
            .replace("{{ASSETS}}", html.escape(assets, quote=True))
            .replace("{{CONFIG}}", settings))


def _runtime_folder(node_modules: str | Path | None) -> Path:
    """onnxruntime-web's dist/ folder: in --node-modules, ./node_modules or the repository's."""
    candidates = [Path(node_modules)] if node_modules else [
        Path("node_modules"), Path(__file__).resolve().parent.parent / "node_modules"]
    for folder in candidates:
        dist = folder / RUNTIME_PACKAGE / "dist"
        if all((dist / f).is_file() for f in RUNTIME_FILES):
            return dist
    raise SpaceError(
        f"ONNX Runtime Web is not installed ({candidates[0] / RUNTIME_PACKAGE / 'dist'} has no "
        f"{RUNTIME_FILES[-1]}). Run `npm ci` in the repository (it installs the pinned "
        "version), or pass --node-modules DIR."
    )


def static_readme_source(meta: dict, *, license: str) -> str:  # noqa: A002
    """README.md of a static Space: the YAML header (sdk: static, isolation headers), a card."""
    title = str(meta.get("title") or meta["name"])
    tags = ["onnx", "onnxruntime-web", str(meta.get("task", "image-classification")),
            "fastai-book"]
    header = [
        "---",
        f"title: {_yaml_str(title)}",
        "emoji: 🔍",
        "colorFrom: indigo",
        "colorTo: blue",
        "sdk: static",
        "app_file: index.html",
        f"license: {_yaml_str(license)}",
        f"short_description: {_yaml_str(short_description(meta))}",
        "custom_headers:",
        *(f"  {key}: {value}" for key, value in ISOLATION_HEADERS.items()),
        "tags:",
        *(f"  - {_yaml_str(tag)}" for tag in tags),
        "---",
    ]
    lines = [f"# {title}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]), ""]
    lines += [
        "The model runs in the visitor's browser with ONNX Runtime Web (WebAssembly): no server,",
        "no GPU quota, no cold start. A static Space is free on every Hugging Face account.",
        "",
        "This folder was written by `python -m demos space --static`; edit the bundle and",
        "regenerate it rather than editing these files.",
        "",
    ]
    return "\n".join(header) + "\n\n" + "\n".join(lines)


def _check_out(out: Path, bundle: Path) -> None:
    if out.resolve() == bundle.resolve() or bundle.resolve() in out.resolve().parents:
        raise SpaceError(f"--out {out} is inside the bundle {bundle}: choose another folder.")
    if out.exists() and not out.is_dir():
        raise SpaceError(f"--out {out} is a file: give a folder path.")
    if out.is_dir() and any(out.iterdir()) and not _looks_like_space(out):
        raise SpaceError(
            f"--out {out} is a non-empty folder that isn't a Space folder written by this "
            "command: choose an empty or new folder."
        )
    if (out / ".git").exists():
        # A clone of the Space's repository: replacing the folder would delete its history.
        raise SpaceError(
            f"--out {out} is a git clone; it would be replaced, history included. Write the "
            "Space to a new folder and copy it in, or use `python -m demos deploy`."
        )


def _read_bundle(bundle: Path) -> dict:
    """Validate the bundle with the runtime the Space will use and return model.json."""
    if not bundle.is_dir():
        models = bundle.parent
        known = (
            sorted(p.name for p in models.iterdir() if (p / "model.json").is_file())
            if (models.is_dir())
            else []
        )
        hint = (
            f" Bundles in {models}: {', '.join(known)}."
            if known
            else (
                f" {models} has no bundles: export one with `python -m training RECIPE`"
                " or pass --models DIR."
            )
        )
        raise SpaceError(f"No bundle folder {bundle}.{hint}")
    from demos import runtime  # imported here: it pulls in gradio, which --help doesn't need

    try:
        runtime.load(bundle, backend="onnx")
    except runtime.BundleError as err:
        raise SpaceError(str(err)) from None
    # The runtime accepted the bundle, so model.json parses and has the contract's fields.
    return json.loads((bundle / "model.json").read_text(encoding="utf-8"))


def _looks_like_space(folder: Path) -> bool:
    gradio = (folder / "app.py").is_file() and (folder / "runtime.py").is_file()
    static = (folder / "index.html").is_file() and (folder / "demo.js").is_file()
    return gradio or static


def _copy_model_files(bundle: Path, meta: dict, staging: Path) -> None:
    for file in MODEL_FILES:
        shutil.copy2(bundle / file, staging / file)
    # The int8 model, when training recorded it as preferred: the Space's runtime runs it.
    int8 = meta.get("int8") or {}
    if int8.get("preferred") and (bundle / int8["file"]).is_file():
        shutil.copy2(bundle / int8["file"], staging / int8["file"])
    _copy_examples(bundle, meta, staging)


def _copy_examples(bundle: Path, meta: dict, staging: Path) -> None:
    for example in meta.get("examples") or []:
        relative = Path(example["file"])
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle / relative, target)


@contextmanager
def _staged(out: Path):
    """A temporary folder beside `out` to write into; it replaces `out` when the block ends
    without an error, and is removed otherwise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield staging
        staging.chmod(0o755)  # mkdtemp makes it 0700; a Space folder is ordinary content
        replace_folder(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _listing(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()))


def replace_folder(staging: Path, out: Path) -> None:
    """Swap `staging` into `out`: the old folder is moved aside first, put back if the swap
    fails, and removed after; readers never see a half-written folder."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _requirements(meta: dict) -> dict[str, str]:
    """Pins for the Space: the bundle's recorded versions, else this environment's."""
    versions = {k.lower(): str(v) for k, v in (meta.get("versions") or {}).items()}
    pins = {}
    for distribution, key in REQUIREMENTS.items():
        version = versions.get(key) or _installed(distribution)
        if version is None:
            raise SpaceError(
                f"model.json records no {key} version and {distribution} isn't installed here: "
                "install the `demo` extra (pip install -e '.[demo]')."
            )
        # A local build suffix (1.2.3+cpu) isn't on PyPI.
        pins[distribution] = version.split("+")[0]
    return pins


def _python_minor(meta: dict) -> str:
    python = str((meta.get("versions") or {}).get("python") or "3.11")
    match = re.match(r"(\d+)\.(\d+)", python)
    return f"{match[1]}.{match[2]}" if match else "3.11"


def short_description(meta: dict) -> str:
    """The card's one-liner: the bundle's description cut to the Hub's 60 characters."""
    text = " ".join(str(meta.get("description") or meta.get("title") or meta["name"]).split())
    if len(text) <= SHORT_DESCRIPTION_MAX:
        return text
    cut = text[: SHORT_DESCRIPTION_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…"


def _yaml_str(value: str) -> str:
    # JSON strings are valid YAML scalars, and json.dumps quotes everything that needs it.
    return json.dumps(value, ensure_ascii=False)


def readme_source(meta: dict, *, gradio_version: str, hardware: str, license: str) -> str:  # noqa: A002
    """README.md: the Spaces YAML header, then a card with metrics and the API call."""
    from demos import runtime

    title = str(meta.get("title") or meta["name"])
    tags = ["gradio", "onnx", str(meta.get("task", "image-classification")), "fastai-book"]
    header = [
        "---",
        f"title: {_yaml_str(title)}",
        "emoji: 🔍",
        "colorFrom: indigo",
        "colorTo: blue",
        "sdk: gradio",
        f"sdk_version: {_yaml_str(gradio_version)}",
        "app_file: app.py",
        f"python_version: {_yaml_str(_python_minor(meta))}",
        f"license: {_yaml_str(license)}",
        f"short_description: {_yaml_str(short_description(meta))}",
        f"suggested_hardware: {_yaml_str(hardware)}",
        "tags:",
        *(f"  - {_yaml_str(tag)}" for tag in tags),
        "---",
    ]
    metrics = meta.get("metrics") or {}
    lines = [f"# {title}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]), ""]
    if metrics:
        lines += ["| metric (validation set) | value |", "| --- | --- |"]
        lines += [f"| {key} | {value} |" for key, value in metrics.items()]
        lines.append("")
    labels = meta.get("labels") or []
    lines += [
        f"Classes: {', '.join(map(str, labels))}." if labels else "",
        "",
        "## Call it from Python",
        "",
        "```python",
        "from gradio_client import Client, handle_file",
        "",
        'client = Client("OWNER/SPACE")  # this Space\'s id, or its URL',
        f'result = client.predict(handle_file("my_image.png"), api_name="{runtime.API_NAME}")',
        "print(result)  # the top classes with their probabilities",
        "```",
        "",
    ]
    if meta.get("post"):
        lines += [f"Read the blog post: {meta['post']}", ""]
    lines += [
        "This folder was written by `python -m demos space`; edit the bundle and regenerate it",
        "rather than editing these files.",
        "",
    ]
    return "\n".join(header) + "\n\n" + "\n".join(lines)


def app_source(meta: dict) -> str:
    """app.py: loads the bundle next to it with the copied runtime and builds the app."""
    return f'''"""Gradio demo for the {meta["name"]!r} model, written by `python -m demos space`.

It imports only runtime.py (copied next to it) and the packages in requirements.txt.
"""

from pathlib import Path

import runtime

try:
    # Preinstalled on Hugging Face Spaces. On ZeroGPU hardware the GPU is attached only
    # inside functions decorated with spaces.GPU; elsewhere the decorator does nothing.
    import spaces
except ImportError:
    spaces = None


def on_predict(predict):
    return spaces.GPU(predict) if spaces is not None else predict


model = runtime.load(Path(__file__).resolve().parent, backend="onnx")
demo = runtime.build_app(model, on_predict=on_predict)

if __name__ == "__main__":
    # Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT when set.
    runtime.launch(demo)
'''


def dockerfile_source(python: str) -> str:
    """A Dockerfile for container hosts (Render, Fly.io, Cloud Run, ...)."""
    return f"""# Container image for this demo, written by `python -m demos space --docker`.
#   docker build -t demo . && docker run -p 7860:7860 demo
FROM python:{python}-slim

# Run as an unprivileged user (uid 1000, as Hugging Face Docker Spaces expect too).
RUN useradd --create-home --uid 1000 demo
WORKDIR /home/demo/app

COPY --chown=demo requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=demo . .
USER demo

# Listen on all interfaces inside the container; hosts that pick the port (Cloud Run,
# Render) pass it in $PORT, everyone else gets Gradio's usual 7860.
ENV GRADIO_SERVER_NAME=0.0.0.0 \\
    PYTHONUNBUFFERED=1
EXPOSE 7860
CMD ["sh", "-c", "GRADIO_SERVER_PORT=${{PORT:-7860}} exec python app.py"]
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the bundle to package (a folder name in --models)")
    parser.add_argument(
        "--models",
        type=Path,
        default=DEFAULT_MODELS,
        help="folder holding the bundles",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder to write the Space to; replaced if it holds an earlier Space (required)",
    )
    parser.add_argument(
        "--hardware",
        choices=HARDWARE_CHOICES,
        default=DEFAULT_HARDWARE,
        help="hardware suggested in the Space's README; zero-a10g is the only one a free "
        "account may use for Gradio Spaces",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="also write a Dockerfile for container hosts (Render, Fly.io, Cloud Run...)",
    )
    parser.add_argument(
        "--license",
        default=DEFAULT_LICENSE,
        help="licence identifier for the Space's README",
    )
    parser.add_argument(
        "--static",
        action="store_true",
        help="write the in-browser demo page instead (sdk: static, free on every account; "
        "the model runs in the visitor's browser with ONNX Runtime Web, from `npm ci`)",
    )
    parser.add_argument(
        "--node-modules",
        type=Path,
        default=None,
        help="where `npm ci` installed onnxruntime-web (default: ./node_modules, then the "
        "repository's)",
    )


def run(args: argparse.Namespace) -> int:
    if args.static:
        if args.docker:
            raise SpaceError("--static and --docker don't mix: a static Space has no server.")
        folder = build_static_space(args.name, args.out, models=args.models,
                                    node_modules=args.node_modules, license=args.license)
        print(f"Wrote the static Space for {folder.name!r} to {folder.path} "
              f"({len(folder.files)} files).")
        print(f"Try it: python -m http.server -d {folder.path} 8000, then open "
              "http://127.0.0.1:8000/")
        return 0
    folder = build_space(
        args.name,
        args.out,
        models=args.models,
        hardware=args.hardware,
        docker=args.docker,
        license=args.license,
    )
    print(f"Wrote the Space for {folder.name!r} to {folder.path} ({len(folder.files)} files).")
    print(f"Try it: cd {folder.path} && pip install -r requirements.txt && python app.py")
    return 0
