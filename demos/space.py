"""Write a self-contained Hugging Face Space folder for one bundle.

The folder holds app.py (a few lines that import nothing from this repository), a copy of
demos/runtime.py, requirements.txt pinned to the versions the bundle was exported with
(without torch: the Space runs the ONNX model), README.md with the Spaces YAML header,
and the model files (model.json, model.onnx, examples/). It runs on CPU hardware and on
ZeroGPU alike: the model runs on the CPU, outside `spaces.GPU`, so a prediction never asks
ZeroGPU for a GPU (see `app_source`). With --docker the folder is a Docker Space instead
(`sdk: docker` and a Dockerfile that also suits other container hosts).

Example:

    python -m demos space digits --out build/spaces/digits
    cd build/spaces/digits && pip install -r requirements.txt && python app.py
    python -m demos space digits --out build/spaces/digits-docker --docker
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from demos.errors import DemosError
from demos.files import staged_folder

DEFAULT_MODELS = Path("models")
HARDWARE_CHOICES = ("cpu-basic", "zero-a10g")
# Free accounts can only create Gradio Spaces on ZeroGPU (at most 2; PRO: 10); CPU needs PRO.
# https://huggingface.co/docs/hub/spaces-zerogpu
DEFAULT_HARDWARE = "zero-a10g"
# A Docker Space can't run on ZeroGPU ("exclusively compatible with the Gradio SDK").
DOCKER_HARDWARE = "cpu-basic"
# What `suggested_hardware` accepts in the YAML header. zero-a10g is not among them (it is a
# flavor for the hardware API only), so a ZeroGPU Space's header leaves the field out.
# https://huggingface.co/docs/hub/spaces-config-reference
SUGGESTED_HARDWARE = (
    "cpu-basic",
    "cpu-upgrade",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
)
# The Pythons ZeroGPU runs, preferred first (https://huggingface.co/docs/hub/spaces-zerogpu,
# "Supported Versions"). A Gradio Space gets one of them whatever its hardware, so it can be
# moved between CPU and ZeroGPU in its settings.
ZEROGPU_PYTHONS = ("3.12.12", "3.10.13")
# For each of those Pythons, the range of each compiled requirement that has wheels for it on
# PyPI: (first release with them, first release without them). Found with `pip download
# --only-binary=:all: --python-version 3.12|3.10 --platform manylinux2014_x86_64 ...`:
# numpy 1.25.2, onnxruntime 1.16.3 and Pillow 9.5.0 have no cp312 wheels; numpy 2.3.0 and
# onnxruntime 1.24.1 have no cp310 wheels. gradio is pure Python (>=3.10 since 5.0).
WHEELS = {
    "3.12.12": {
        "numpy": ("1.26.0", None),
        "onnxruntime": ("1.17.0", None),
        "Pillow": ("10.0.0", None),
    },
    "3.10.13": {"numpy": (None, "2.3.0"), "onnxruntime": (None, "1.24.0")},
}
GRADIO_PORT = 7860  # Gradio's default; the Docker Space's app_port
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
    hardware: str | None = None,
    docker: bool = False,
    license: str = DEFAULT_LICENSE,  # the Spaces YAML field's name
) -> SpaceFolder:
    """Write the Space folder for bundle `models/NAME` to `out` and return what was written.

    `hardware` is the one the README suggests: zero-a10g (ZeroGPU) by default, cpu-basic for
    a Docker Space (`docker`), which can't run on ZeroGPU. The bundle is loaded with the demo
    runtime first, so a broken bundle fails here with the runtime's message instead of on the
    Hub. `out` is replaced as a whole (written to a temporary folder next to it, then
    renamed), so it never mixes two versions.
    """
    if hardware is None:
        hardware = DOCKER_HARDWARE if docker else DEFAULT_HARDWARE
    if hardware not in HARDWARE_CHOICES:
        raise SpaceError(
            f"Unknown hardware {hardware!r}: choose one of {', '.join(HARDWARE_CHOICES)}."
        )
    if docker and hardware == "zero-a10g":
        raise SpaceError(
            "--docker and --hardware zero-a10g don't mix: ZeroGPU runs Gradio Spaces only. "
            f"Drop --docker, or use --hardware {DOCKER_HARDWARE} (a Docker Space needs PRO)."
        )
    bundle = Path(models) / name
    meta = _read_bundle(bundle)
    out = Path(out)
    _check_out(out, bundle)
    if not RUNTIME_SOURCE.is_file():
        raise SpaceError(f"{RUNTIME_SOURCE} is missing: the demos package is incomplete.")

    requirements = _requirements(meta)
    python = space_python(requirements, str(bundle / "model.json"))
    with staged_folder(out) as staging:
        _copy_model_files(bundle, meta, staging)
        shutil.copy2(RUNTIME_SOURCE, staging / "runtime.py")
        (staging / "app.py").write_text(app_source(meta), encoding="utf-8")
        (staging / "requirements.txt").write_text(
            "".join(f"{dist}=={version}\n" for dist, version in requirements.items()),
            encoding="utf-8",
        )
        if docker:
            readme = docker_readme_source(meta, hardware=hardware, license=license)
            (staging / "Dockerfile").write_text(
                dockerfile_source(_python_minor(meta)), encoding="utf-8"
            )
            (staging / ".dockerignore").write_text(DOCKERIGNORE, encoding="utf-8")
        else:
            readme = readme_source(
                meta,
                gradio_version=requirements["gradio"],
                hardware=hardware,
                license=license,
                python=python,
            )
        (staging / "README.md").write_text(readme, encoding="utf-8")
        # Whoever runs the app reads every file and changes none (the Docker image keeps
        # them root's): normalise the modes the bundle's files came with (0600 from mkstemp).
        _make_readable(staging)
    return SpaceFolder(path=out, name=meta["name"], files=_listing(out), requirements=requirements)


def build_static_space(
    name: str,
    out: str | Path,
    *,
    models: str | Path = DEFAULT_MODELS,
    node_modules: str | Path | None = None,
    license: str = DEFAULT_LICENSE,  # the Spaces YAML field's name
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
    with staged_folder(out) as staging:
        shutil.copy2(bundle / "model.json", staging / "model.json")
        shutil.copy2(bundle / model_file, staging / model_file)
        _copy_examples(bundle, meta, staging)
        report = [
            f"report/{f}"
            for f in ("confusion.png", "top_losses.png")
            if (bundle / "report" / f).is_file()
        ]
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
        (staging / "index.html").write_text(
            render_page(template, meta, config, "./"), encoding="utf-8"
        )
        (staging / "README.md").write_text(
            static_readme_source(meta, license=license), encoding="utf-8"
        )
    return SpaceFolder(path=out, name=meta["name"], files=_listing(out), requirements={})


def render_page(template: str, meta: dict, config: dict, assets: str) -> str:
    """demos/web/index.html with its settings filled in (the blog's build does the same)."""
    title = str(meta.get("title") or meta.get("name") or "Demo")
    settings = json.dumps(config).replace("</", "<\\/")  # safe inside <script>
    return (
        template.replace("{{TITLE}}", html.escape(title))
        .replace("{{DESCRIPTION}}", html.escape(str(meta.get("description") or "")))
        .replace("{{ASSETS}}", html.escape(assets, quote=True))
        .replace("{{CONFIG}}", settings)
    )


def _runtime_folder(node_modules: str | Path | None) -> Path:
    """onnxruntime-web's dist/ folder: in --node-modules, ./node_modules or the repository's."""
    candidates = (
        [Path(node_modules)]
        if node_modules
        else [Path("node_modules"), Path(__file__).resolve().parent.parent / "node_modules"]
    )
    for folder in candidates:
        dist = folder / RUNTIME_PACKAGE / "dist"
        if all((dist / f).is_file() for f in RUNTIME_FILES):
            return dist
    raise SpaceError(
        f"ONNX Runtime Web is not installed ({candidates[0] / RUNTIME_PACKAGE / 'dist'} has no "
        f"{RUNTIME_FILES[-1]}). Run `npm ci` in the repository (it installs the pinned "
        "version), or pass --node-modules DIR."
    )


def static_readme_source(meta: dict, *, license: str) -> str:
    """README.md of a static Space: the YAML header (sdk: static, isolation headers), a card."""
    title = str(meta.get("title") or meta["name"])
    tags = ["onnx", "onnxruntime-web", str(meta.get("task", "image-classification")), "fastai-book"]
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


def _make_readable(folder: Path) -> None:
    """Files 0644 and folders 0755: readable by everyone, writable by the owner only."""
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _listing(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()))


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


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def space_python(requirements: dict[str, str], where: str = "model.json") -> str:
    """The Space's `python_version`: the first of ZeroGPU's Pythons that every pinned wheel
    exists for (see WHEELS)."""
    for python in ZEROGPU_PYTHONS:
        ranges = WHEELS[python]
        if all(
            (low is None or _version_tuple(requirements[dist]) >= _version_tuple(low))
            and (high is None or _version_tuple(requirements[dist]) < _version_tuple(high))
            for dist, (low, high) in ranges.items()
            if dist in requirements
        ):
            return python
    pins = ", ".join(f"{dist}=={version}" for dist, version in requirements.items())
    raise SpaceError(
        f"{where}: the pinned versions ({pins}) have wheels for none of the Pythons a Gradio "
        f"Space may use on ZeroGPU ({', '.join(ZEROGPU_PYTHONS)}): export the bundle again "
        "with numpy>=1.26, onnxruntime>=1.17 and Pillow>=10 installed."
    )


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


# The validation metrics training records, in the order and with the format the blog's model
# report uses: percentages with 2 decimals, the loss with 4, counts as integers.
METRICS = (
    ("accuracy", "Accuracy", "{:.2%}"),
    ("error_rate", "Error rate", "{:.2%}"),
    ("valid_loss", "Validation loss", "{:.4f}"),
    ("n_valid", "Validation images", "{:.0f}"),
)


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """(label, value) for the card's table: the known metrics formatted, others as they are
    (floats with 4 decimals); values that aren't numbers are left out."""
    known = {key: (label, fmt) for key, label, fmt in METRICS}
    rows = []
    for key in [k for k, _, _ in METRICS if k in metrics] + [k for k in metrics if k not in known]:
        value = metrics[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        label, fmt = known.get(key, (key, "{:.4f}" if isinstance(value, float) else "{}"))
        rows.append((label, fmt.format(value)))
    return rows


def _card_header(
    meta: dict, *, sdk: list[str], hardware: str, license: str, tags: list[str]
) -> list[str]:
    title = str(meta.get("title") or meta["name"])
    suggested = (
        [f"suggested_hardware: {_yaml_str(hardware)}"] if hardware in SUGGESTED_HARDWARE else []
    )
    return [
        "---",
        f"title: {_yaml_str(title)}",
        "emoji: 🔍",
        "colorFrom: indigo",
        "colorTo: blue",
        *sdk,
        f"license: {_yaml_str(license)}",
        f"short_description: {_yaml_str(short_description(meta))}",
        *suggested,
        "tags:",
        *(f"  - {_yaml_str(tag)}" for tag in tags),
        "---",
    ]


def _card_body(meta: dict, *, runs_on: str, written_by: str) -> list[str]:
    from demos import runtime

    title = str(meta.get("title") or meta["name"])
    lines = [f"# {title}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]), ""]
    rows = metric_rows(meta.get("metrics") or {})
    if rows:
        lines += ["| metric (validation set) | value |", "| --- | --- |"]
        lines += [f"| {label} | {value} |" for label, value in rows]
        lines.append("")
    labels = meta.get("labels") or []
    if labels:
        lines += [f"Classes: {', '.join(map(str, labels))}.", ""]
    lines += [
        runs_on,
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
        f"This folder was written by `{written_by}`; edit the bundle and regenerate it",
        "rather than editing these files.",
        "",
    ]
    return lines


def readme_source(
    meta: dict, *, gradio_version: str, hardware: str, license: str, python: str | None = None
) -> str:
    """README.md of a Gradio Space: the YAML header, then a card with metrics and the API call.

    The header fits ZeroGPU (https://huggingface.co/docs/hub/spaces-zerogpu): one of its
    Pythons, and no `suggested_hardware` for it (the config reference has no ZeroGPU value).
    """
    python = python or space_python(_requirements(meta))
    tags = ["gradio", "onnx", str(meta.get("task", "image-classification")), "fastai-book"]
    header = _card_header(
        meta,
        sdk=[
            "sdk: gradio",
            f"sdk_version: {_yaml_str(gradio_version)}",
            "app_file: app.py",
            f"python_version: {_yaml_str(python)}",
        ],
        hardware=hardware,
        license=license,
        tags=tags,
    )
    runs_on = (
        "The model runs on the CPU with ONNX Runtime, outside `spaces.GPU`: on ZeroGPU "
        "hardware a prediction uses none of the visitor's GPU quota."
    )
    body = _card_body(meta, runs_on=runs_on, written_by="python -m demos space")
    return "\n".join(header) + "\n\n" + "\n".join(body)


def docker_readme_source(meta: dict, *, hardware: str, license: str) -> str:
    """README.md of a Docker Space: `sdk: docker` on the Dockerfile's port, no Gradio fields
    (the Dockerfile picks Python and Gradio)."""
    tags = [
        "gradio",
        "docker",
        "onnx",
        str(meta.get("task", "image-classification")),
        "fastai-book",
    ]
    header = _card_header(
        meta,
        sdk=["sdk: docker", f"app_port: {GRADIO_PORT}"],
        hardware=hardware,
        license=license,
        tags=tags,
    )
    runs_on = "The model runs on the CPU with ONNX Runtime, in the container the Dockerfile builds."
    body = _card_body(meta, runs_on=runs_on, written_by="python -m demos space --docker")
    return "\n".join(header) + "\n\n" + "\n".join(body)


def app_source(meta: dict) -> str:
    """app.py: loads the bundle next to it with the copied runtime and builds the app.

    The prediction is never wrapped with `spaces.GPU`: the model runs on the CPU, and on
    ZeroGPU a GPU function is scheduled for its requested duration (60 s unless it says
    otherwise) against the visitor's daily quota, which is 2 minutes without an account. The
    `spaces` package reports a ZeroGPU Space as started only when some function is decorated
    (spaces/zero/__init__.py: startup), so app.py decorates one that is never called.
    """
    return f'''"""Gradio demo for the {meta["name"]!r} model, written by `python -m demos space`.

It imports only runtime.py (copied next to it) and the packages in requirements.txt.
"""

from pathlib import Path

import runtime

try:
    # Preinstalled on Hugging Face Spaces; elsewhere the app runs without it.
    import spaces
except ImportError:
    spaces = None

if spaces is not None:
    # The model runs on the CPU, so predictions stay outside spaces.GPU: on ZeroGPU hardware
    # each one would otherwise wait for a GPU and need 60 s of the visitor's daily GPU quota.
    # Nor may Gradio wrap them itself (SPACES_GRADIO_AUTO_WRAP).
    if hasattr(spaces, "disable_gradio_auto_wrap"):
        spaces.disable_gradio_auto_wrap()

    @spaces.GPU(duration=1)
    def zerogpu_startup():
        """Never called: `spaces` reports a ZeroGPU Space started only if one is decorated."""


model = runtime.load(Path(__file__).resolve().parent, backend="onnx")
demo = runtime.build_app(model)

if __name__ == "__main__":
    # Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT when set.
    runtime.launch(demo)
'''


# The container checks itself with the standard library (slim images have no curl).
HEALTHCHECK = (
    "import os, urllib.request; urllib.request.urlopen("
    "'http://127.0.0.1:' + os.environ.get('PORT', '7860') + '/', timeout=8)"
)


def dockerfile_source(python: str) -> str:
    """A Dockerfile for a Docker Space and other container hosts (Render, Fly.io, Cloud Run)."""
    healthcheck = json.dumps(["python", "-c", HEALTHCHECK])
    return f"""# Container image for this demo, written by `python -m demos space --docker`.
#   docker build -t demo . && docker run -p {GRADIO_PORT}:{GRADIO_PORT} demo
FROM python:{python}-slim

# The app runs as an unprivileged user (uid 1000, as Hugging Face Docker Spaces expect).
RUN useradd --create-home --uid 1000 demo
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The app's files stay root's, as `demos space` wrote them (files 644, folders 755): the
# user that runs the app can read them but not change them (Gradio writes to /tmp).
COPY . .
USER demo

# Listen on all interfaces inside the container; hosts that pick the port (Cloud Run,
# Render) pass it in $PORT, everyone else gets Gradio's usual {GRADIO_PORT}.
ENV GRADIO_SERVER_NAME=0.0.0.0 \\
    PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1
EXPOSE {GRADIO_PORT}
# The container turns unhealthy when the page stops answering.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \\
    CMD {healthcheck}
CMD ["sh", "-c", "GRADIO_SERVER_PORT=${{PORT:-{GRADIO_PORT}}} exec python app.py"]
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
        default=None,
        help="the hardware the Space is meant for; when not given (%(default)s): "
        f"{DEFAULT_HARDWARE} (ZeroGPU, the only one a free account may use for Gradio Spaces), "
        f"{DOCKER_HARDWARE} with --docker. Only cpu-basic is written into the README "
        "(suggested_hardware has no ZeroGPU value)",
    )
    parser.add_argument(
        "--docker",
        action="store_true",
        help="write a Docker Space instead (sdk: docker and a Dockerfile, also for Render, "
        "Fly.io, Cloud Run...); Docker Spaces don't run on ZeroGPU and need PRO on the Hub",
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
        folder = build_static_space(
            args.name,
            args.out,
            models=args.models,
            node_modules=args.node_modules,
            license=args.license,
        )
        print(
            f"Wrote the static Space for {folder.name!r} to {folder.path} "
            f"({len(folder.files)} files)."
        )
        print(
            f"Try it: python -m http.server -d {folder.path} 8000, then open http://127.0.0.1:8000/"
        )
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
