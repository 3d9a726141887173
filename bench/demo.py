"""Demo latency and cold start: our demo against fastai's learn.predict and its Gradio app.

    python bench/demo.py                  # resnet34 at 224 px, fastai from the bench extra
    python bench/demo.py --quick          # resnet18 at 64 px, fewer repeats: a smoke run
    python bench/demo.py --skip-peer      # ours and the ONNX Runtime floor only
    python bench/demo.py --skip-web       # without the in-browser figures (no Chromium)

One image per request, on the CPU, the same weights on every side. With fastai, a
`vision_learner(arch, pretrained=False)` is built on a small generated data set,
`learn.export()`-ed, and imported into a bundle with `python -m training import-fastai`, so
the bundle's model.onnx is that Learner's network. No weights are downloaded: the body keeps
its random initialisation (seeded), frozen, and only fastai's head is trained, for --epochs (3)
on easy colour classes, with BatchNorm's running statistics averaged over every batch (so
the statistics are exact and the predictions confident, which the int8 agreement check
needs; the time of a forward pass doesn't depend on the weights' values). Without fastai
(--skip-peer), `training` writes a bundle of the same architecture.

int8: the bundle's model.onnx is quantised with the project's own quantiser
(`training.quantize.write_int8`: static QDQ, calibrated on the Learner's training images)
and the entry written into its model.json, as `python -m training` does. Timed beside the
others: `ours_int8`, demos.runtime's `load(bundle, precision="int8").predict(path)`, against
learn.predict with torch on one thread (goal: at most half its time). The int8 model's top-1
label is compared with the fp32 model's on the Learner's validation images, through the
runtime end to end (goal: at least 99% the same), with both accuracies.

Prediction, one request: a JPEG the size of a typical Oxford-IIIT Pets photo (500x375)
decoded, resized and classified
  - ours: demos.runtime's `Model.predict(path)` (Pillow + numpy + ONNX Runtime, softmax);
  - fastai: `learn.predict(path)` on the exported Learner;
  - the floor: a bare `onnxruntime` session run on the already-preprocessed array, with the
    session options of our runtime (ONNX_THREADS intra-op threads), so the ratio is the
    cost of decoding and preprocessing.
Rounds interleave the three; each figure is the median over the rounds of each round's
median. Our runtime runs ONNX Runtime on ONNX_THREADS thread(s) per request, because a
Space serves two requests at once on 2 vCPUs; fastai runs with torch's default threads
(all cores). learn.predict is also compared with torch on one thread, the resources ours
uses: that is the like-for-like figure, and the steadier one, since a multi-thread torch
run slows down many times over whenever another process takes a core. The floor with
ONNX Runtime's default threads is printed for the record.

Cold start: from starting `python app.py` to the first successful answer of its API
(gradio_client, polling), for our Space folder (`python -m demos space`) and for the
course's fastai + Gradio app (bench/demo_peer/app.py, `load_learner` + `gr.Interface`),
both on 127.0.0.1 on free ports, interleaved, each process killed after its answer. The
time until each app's port listens and that of a process that only imports gradio (start
to exit: the part every Gradio app pays) are recorded too.

In the browser (skipped with --skip-web): resnet18 and resnet34 bundles (random body,
`training` for one short epoch) at the same size, each written as the static in-browser page
(`demos.space.build_static_space`) twice, once running model.onnx and once model.int8.onnx
(model.json's `int8.preferred` false, then true). Served from 127.0.0.1 without the
cross-origin isolation headers, as GitHub Pages serves it, so ONNX Runtime Web runs on one
thread, and opened in headless Chromium (/usr/bin/chromium) in a fresh context each time:
  - load: from `page.goto` to `body[data-state=ready]` (median of --web-loads opens), and the
    bytes the page downloaded until then (response bodies), split into the runtime (ort/),
    the model file and the page itself (HTML, scripts, CSS, model.json, examples);
  - prediction: `window.demo.predict(blob)` on the request JPEG, timed in the page with
    performance.now() (decode, preprocessing, the model, softmax and the page update), after
    three warm-up predictions; rounds interleave fp32 and int8; median of round medians.
    `window.demo.preprocess(blob)` alone is timed too, for the record.

Each app runs in the environment its host would give it. Ours: a venv with exactly the
Space folder's requirements.txt (made once in bench/.venvs/, from the package index), as
a Space installs it. That matters: Gradio wraps every request in a check that imports
matplotlib when it is installed, which costs the first request ~0.3 s in an environment
that has it, such as this project's. The fastai app runs in this Python, which has fastai
and with it matplotlib, as its Space would. `--space-python` picks another Python for ours.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the repository

from bench import common  # noqa: E402

NAME = "demo-bench"
PEER_APP = Path(__file__).resolve().parent / "demo_peer" / "app.py"
VENVS = ROOT / "bench" / ".venvs"  # environments made for the apps (git-ignored)
# Easy colour classes: noisy images tinted warm, cool, green or pink.
TINTS = {
    "dawn": (200, 120, 60),
    "dusk": (60, 90, 200),
    "forest": (60, 170, 70),
    "rose": (210, 80, 150),
}
LABELS = tuple(TINTS)
# Goals from issue 6, as ours / peer time.
GOAL_PEER = 0.5
GOAL_FLOOR = 1.3
GOAL_START = 0.5
# Goals from issue 11: the int8 model natively against learn.predict (1 thread each), and
# the share of validation images whose int8 top-1 label is the fp32 model's.
GOAL_INT8 = 0.5
GOAL_AGREEMENT = 0.99
SEED = 42  # the Learner's random weights and batch order
# The in-browser page: the models it is measured with, and the browser that runs it.
WEB_ARCHS = ("resnet18", "resnet34")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WEB_TIMEOUT_MS = 180_000  # for the page to load a model, and for a round of predictions
# How long one app may take to answer its first request before the run is abandoned.
START_TIMEOUT_S = 180.0


class BenchError(Exception):
    """The benchmark can't run; the message says what and how to fix it."""


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: resnet18 at 64 px, 3 rounds, 1 start each",
    )
    p.add_argument(
        "--skip-peer",
        action="store_true",
        help="run ours and the ONNX Runtime floor only (no fastai needed)",
    )
    p.add_argument(
        "--arch",
        default=None,
        help="a torchvision resnet (default: resnet34; resnet18 with --quick)",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="input size in pixels (default: 224; 64 with --quick)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="interleaved prediction rounds (default: 9; 3 with --quick)",
    )
    p.add_argument(
        "--per-round",
        type=int,
        default=5,
        help="predictions per side in each round (their median is the round's)",
    )
    p.add_argument(
        "--starts",
        type=int,
        default=None,
        help="timed cold starts per app, interleaved (default: 5; 1 with --quick)",
    )
    p.add_argument(
        "--images-per-label",
        type=int,
        default=None,
        help="generated images per class for the Learner, half of them validation "
        "(default: 64; 16 with --quick)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=3,
        help="epochs training fastai's head (the body stays frozen at random)",
    )
    p.add_argument(
        "--skip-web",
        action="store_true",
        help="skip the in-browser page (Chromium, ONNX Runtime Web, fp32 and int8)",
    )
    p.add_argument(
        "--web-archs",
        default=None,
        help="comma-separated torchvision resnets for the in-browser page (default: "
        "resnet18,resnet34; resnet18 with --quick)",
    )
    p.add_argument(
        "--web-loads",
        type=int,
        default=None,
        help="page opens per model and precision, each timed (default: 3; 1 with --quick)",
    )
    p.add_argument(
        "--web-rounds",
        type=int,
        default=None,
        help="interleaved in-browser prediction rounds (default: 5; 2 with --quick)",
    )
    p.add_argument(
        "--web-per-round", type=int, default=3, help="in-browser predictions per page in each round"
    )
    p.add_argument(
        "--crowd",
        type=int,
        default=None,
        help="simultaneous requests to our app, as a class opening a shared link; 0 skips it "
        "(default: 100; 30 with --quick)",
    )
    p.add_argument(
        "--image",
        type=Path,
        default=None,
        help="the request image (default: a generated 500x375 JPEG)",
    )
    p.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for the data, bundle, export and app folders, kept after the "
        "run (default: a temporary folder, removed)",
    )
    p.add_argument(
        "--note",
        default="",
        help="a remark stored with the figures and shown on the Benchmarks page, "
        "e.g. that another job shared the cores",
    )
    p.add_argument(
        "--results-dir", type=Path, default=common.RESULTS, help="where demo.json is written"
    )
    p.add_argument(
        "--space-python",
        default=None,
        help="the Python that runs our Space app for the cold start (default: a "
        "venv with exactly the Space's requirements.txt, made once in "
        "bench/.venvs/ with pip)",
    )
    args = p.parse_args(argv)
    args.arch = args.arch or ("resnet18" if args.quick else "resnet34")
    args.size = args.size or (64 if args.quick else 224)
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.starts = args.starts or (1 if args.quick else 5)
    args.images_per_label = args.images_per_label or (16 if args.quick else 64)
    args.web_archs = [
        a.strip()
        for a in (args.web_archs or ("resnet18" if args.quick else ",".join(WEB_ARCHS))).split(",")
        if a.strip()
    ]
    args.web_loads = args.web_loads or (1 if args.quick else 3)
    args.web_rounds = args.web_rounds or (2 if args.quick else 5)
    if args.crowd is None:
        args.crowd = 30 if args.quick else 100
    for option in (
        "size",
        "rounds",
        "per_round",
        "starts",
        "images_per_label",
        "epochs",
        "web_loads",
        "web_rounds",
        "web_per_round",
    ):
        if getattr(args, option) < 1:
            p.error(f"--{option.replace('_', '-')} must be at least 1")
    if not args.arch.startswith("resnet"):
        p.error(f"--arch {args.arch}: use a torchvision resnet (resnet18, resnet34, resnet50)")
    if args.images_per_label < 4:
        p.error("--images-per-label must be at least 4 (half of them are validation images)")
    if not args.web_archs or not all(a.startswith("resnet") for a in args.web_archs):
        p.error(
            f"--web-archs {','.join(args.web_archs)}: use torchvision resnets, e.g. "
            "resnet18,resnet34"
        )
    return args


# ---------------------------------------------------------------------------------------
# Inputs: a generated data set, the request image, the bundle


def write_dataset(folder: Path, per_label: int = 8, labels=LABELS) -> Path:
    """Small JPEGs in one folder per label: noisy images in each label's tint (TINTS), at
    random brightness."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in labels:
        (folder / label).mkdir(parents=True, exist_ok=True)
        tint = np.array(TINTS[label], dtype=np.float32)
        for n in range(per_label):
            pixels = tint * rng.uniform(0.6, 1.1) + rng.normal(0, 25, (120, 160, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
            image.save(folder / label / f"{n}.jpg", quality=90)
    return folder


def write_request_image(path: Path) -> Path:
    """A 500x375 photo-like JPEG (smooth shapes plus sensor-like noise), as users upload."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(1)
    image = Image.new("RGB", (500, 375), (90, 130, 170))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = int(rng.integers(0, 450)), int(rng.integers(0, 330))
        w, h = int(rng.integers(40, 200)), int(rng.integers(40, 200))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x, y, x + w, y + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(3))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 6, (375, 500, 3))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB").save(path, quality=90)
    return path


def check_image(path: Path) -> Path:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise BenchError(
            f"--image {path}: no such file; give a JPEG or PNG, or leave --image "
            "out to use a generated one."
        )
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise BenchError(
            f"--image {path}: not an image Pillow can read ({error}); give a JPEG or PNG."
        ) from None
    return path


def run_command(command: list[str], what: str) -> None:
    """Run one of the project's commands; a failure stops the benchmark with its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BenchError(f"{what} failed ({' '.join(command)}):\n{tail}")


def fastai_bundle(args, data: Path, work: Path) -> tuple[Path, Path, dict]:
    """vision_learner -> learn.export() -> `python -m training import-fastai`: (export, bundle,
    the Learner's split: {"train": [paths], "valid": [paths]})."""
    import torch

    with warnings.catch_warnings():
        # fastai's import uses torch.jit.script, which torch now marks deprecated: not ours.
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit")
        from fastai.vision.all import (
            ImageDataLoaders,
            Normalize,
            Resize,
            error_rate,
            imagenet_stats,
            set_seed,
            vision_learner,
        )
    from torchvision import models

    set_seed(SEED)  # the same random body, head and batch order every run

    # Half the images for validation: the int8 agreement is measured on them. ImageNet's
    # statistics, as a pretrained Learner normalises (and as the int8 calibration does).
    dls = ImageDataLoaders.from_folder(
        data,
        valid_pct=0.5,
        seed=42,
        bs=16,
        num_workers=0,
        item_tfms=Resize(args.size, method="squish"),
        batch_tfms=Normalize.from_stats(*imagenet_stats),
    )
    learn = vision_learner(
        dls, getattr(models, args.arch), pretrained=False, metrics=error_rate, train_bn=False
    )
    # A random body, frozen, and a trained head: a few epochs make confident predictions
    # (a whole network from scratch needs far more). BatchNorm's running statistics are
    # the average over every training batch (momentum None), so they are exact for the
    # frozen body and the model predicts in eval mode as it trained.
    for module in learn.model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = None
    learn.freeze()
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(args.epochs, 1e-2)
    export = work / "export.pkl"
    learn.export(export)  # an absolute path: fastai joins it to learn.path unchanged
    run_command(
        [
            sys.executable,
            "-m",
            "training",
            "import-fastai",
            str(export),
            "--name",
            NAME,
            "--trust",
            "--models",
            str(work / "models"),
        ],
        "python -m training import-fastai",
    )
    split = {
        "train": [Path(p) for p in dls.train_ds.items],
        "valid": [Path(p) for p in dls.valid_ds.items],
    }
    return export, work / "models" / NAME, split


def training_bundle(
    args, data: Path, work: Path, arch: str | None = None, name: str = NAME
) -> Path:
    """Without fastai: the same architecture from `training`, trained one short epoch (int8
    written too, as `python -m training` does)."""
    import training

    config = training.recipes.config(
        "folder",
        path=str(data),
        name=name,
        arch=arch or args.arch,
        pretrained=False,
        size=args.size,
        resize="squish",
        schedule="one_cycle",
        epochs=1,
        freeze_epochs=0,
        batch_size=8,
        device="cpu",
        cache_dir="",
        examples_per_class=1,
        output=str(work / "models" / name),
    )
    result = training.train(config, quiet=True)
    return training.export(result)


def model_size_images(paths: list[Path], meta: dict):
    """uint8 (N, 3, H, W) tensors of the images squished to the model's size, as the runtime
    resizes them (Pillow, bilinear): what training.quantize takes."""
    import numpy as np
    import torch
    from PIL import Image

    from demos import runtime

    height, width = meta["input"]["size"]
    arrays = [
        np.asarray(runtime.open_image(path).resize((width, height), Image.BILINEAR))
        for path in paths
    ]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def quantise_bundle(bundle: Path, split: dict) -> dict:
    """model.int8.onnx for the imported bundle, as `python -m training` writes one: calibrated
    on the Learner's training images, checked on its validation images; the entry goes into
    the bundle's model.json, and is returned."""
    import json

    import torch

    from training import quantize

    meta = json.loads((bundle / "model.json").read_text("utf-8"))
    spec = meta["input"]
    # The images are brought to the model's size by squishing (model_size_images).
    if spec["resize"] != "squish":
        raise BenchError(
            f"{bundle}/model.json: input {spec} is not squish, which this bench assumes"
        )
    index = {label: i for i, label in enumerate(meta["labels"])}
    train = model_size_images(split["train"], meta)
    valid = model_size_images(split["valid"], meta)
    targets = torch.tensor([index[p.parent.name] for p in split["valid"]])
    name = meta["onnx"]["input"]
    mean, std = spec["mean"], spec["std"]  # the bundle's own normalisation
    fp32 = quantize.predictions(bundle / "model.onnx", valid, name, mean, std)
    batches = quantize.calibration_batches(
        train, tuple(spec["size"]), min(len(train), 256), 0, mean, std
    )
    entry = quantize.write_int8(
        bundle / "model.onnx",
        bundle / quantize.FILE,
        batches,
        valid,
        targets,
        float((fp32 == targets.numpy()).mean()),
        name,
        mean,
        std,
    )
    meta["int8"] = entry
    (bundle / "model.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    return entry


def agreement(bundle: Path, paths: list[Path]) -> dict:
    """fp32 and int8 through demos.runtime end to end (decode, resize, model) on the images:
    both accuracies and the share of images whose top-1 labels are equal."""
    from demos import runtime

    models = {p: runtime.load(bundle, precision=p) for p in ("fp32", "int8")}
    top = {
        p: [max((probs := m.predict(str(path))), key=probs.get) for path in paths]
        for p, m in models.items()
    }
    truth = [path.parent.name for path in paths]

    def share(a, b):
        return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)

    return {
        "n_valid": len(paths),
        "agreement": share(top["int8"], top["fp32"]),
        "accuracy_fp32": share(top["fp32"], truth),
        "accuracy_int8": share(top["int8"], truth),
    }


def load_fastai(export: Path):
    from fastai.learner import load_learner

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the pickle warning: we wrote the file
        return load_learner(export, cpu=True)


# ---------------------------------------------------------------------------------------
# Prediction latency


def time_predictions(sides: dict, rounds: int, per_round: int) -> dict[str, list[float]]:
    """Each side's per-round medians; rounds interleave the sides, rotating their order."""
    from tqdm import tqdm

    for fn in sides.values():  # warm-up: first calls allocate buffers and fill caches
        fn()
        fn()
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in tqdm(range(rounds), desc="prediction rounds", file=sys.stderr):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(common.median_seconds(sides[name], per_round, warmup=0))
    return times


def prediction_sides(args, bundle: Path, image: Path, learn) -> tuple[dict, dict]:
    import numpy as np
    import onnxruntime as ort

    from demos import runtime

    # "ours" stays the fp32 model.onnx, as before the int8 model existed; "ours_int8" is the
    # int8 file of the same network, timed against fastai (so not with --skip-peer).
    model = runtime.load(bundle, precision="fp32")
    meta = model.meta
    x = runtime.preprocess(runtime.open_image(image), meta["input"])[None]

    def session(threads: int | None, file: str = "model.onnx"):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        return ort.InferenceSession(str(bundle / file), options, providers=["CPUExecutionProvider"])

    feeds = {meta["onnx"]["input"]: x}
    outputs = [meta["onnx"]["output"]]
    floor, floor_default = session(runtime.ONNX_THREADS), session(None)
    sides = {
        "ours": lambda: model.predict(str(image)),
        "floor": lambda: floor.run(outputs, feeds),
        "floor_default_threads": lambda: floor_default.run(outputs, feeds),
    }
    checks = {}
    if learn is not None and meta.get("int8"):
        int8 = runtime.load(bundle, precision="int8")
        floor_int8 = session(runtime.ONNX_THREADS, meta["int8"]["file"])
        sides["ours_int8"] = lambda: int8.predict(str(image))
        sides["floor_int8"] = lambda: floor_int8.run(outputs, feeds)
    ours = model.predict(str(image))
    if learn is not None:
        import torch

        def fastai_predict():
            with learn.no_bar(), learn.no_logging():
                return learn.predict(str(image))

        def fastai_one_thread():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return fastai_predict()
            finally:
                torch.set_num_threads(threads)

        sides["fastai"] = fastai_predict
        sides["fastai_1_thread"] = fastai_one_thread
        probs = fastai_predict()[2].numpy()
        mine = np.array([ours[str(label)] for label in learn.dls.vocab])
        # Same weights, same image: the two should agree up to resize rounding.
        checks["max_probability_difference"] = float(np.abs(probs - mine).max())
        checks["same_top_class"] = bool(probs.argmax() == mine.argmax())
        checks["torch_threads"] = torch.get_num_threads()
    checks["onnx_threads_ours"] = runtime.ONNX_THREADS
    return sides, checks


# ---------------------------------------------------------------------------------------
# Cold start


def runtime_threads() -> int:
    from demos import runtime

    return runtime.ONNX_THREADS


def measure_crowd(bundle: Path, image: Path, n: int) -> dict:
    """`n` simultaneous requests to our app (demos.runtime, as a Space runs it) on 127.0.0.1,
    each through Gradio's HTTP API: every one must be answered; their latency percentiles."""
    import crowd

    from demos import runtime

    app = runtime.build_app(runtime.load(bundle, precision="fp32"))
    port = free_port()
    runtime.launch(
        app, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )
    try:
        print(f"{n} simultaneous requests to our app", flush=True)
        latencies = crowd.burst(
            f"http://127.0.0.1:{port}/", image, n=n, api_name=runtime.API_NAME, timeout=600
        )
    finally:
        app.close()
    return crowd.summary(latencies) | {
        "concurrency": runtime.CONCURRENCY,
        "queue": runtime.QUEUE_SIZE,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def space_python(requirements: Path) -> str:
    """A Python with exactly these requirements, as a Space installs them: a venv in
    bench/.venvs/ named after the file's hash, made on first use."""
    import hashlib

    # The base Python is part of the name: a venv made from another one may point at a
    # Python that is gone.
    digest = hashlib.sha256(
        requirements.read_bytes() + sys.version.encode() + sys.executable.encode()
    ).hexdigest()[:12]
    venv = VENVS / f"space-{digest}"
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return str(python)
    shutil.rmtree(venv, ignore_errors=True)
    print(f"making {venv} from the Space's requirements.txt (once)", flush=True)
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
    ):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
            raise BenchError(
                f"could not make the Space's environment {venv} "
                f"({' '.join(command[:4])} ...):\n{tail}\nWithout the package "
                "index, pass --space-python with a Python that has gradio and "
                "onnxruntime."
            )
    (venv / ".complete").touch()
    return str(python)


def cold_start(folder: Path, python: str, image: Path, log: Path) -> tuple[float, float]:
    """Seconds from starting `python app.py` in `folder` to (its port listening, its API's
    first answer)."""
    from gradio_client import Client, handle_file

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as on a host
    env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    url = f"http://127.0.0.1:{port}/"
    listening = None
    with open(log, "ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [python, "app.py"], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            while True:
                if process.poll() is not None:
                    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                    raise BenchError(
                        f"{folder}/app.py exited with {process.returncode} "
                        f"before answering; its log ({log}) ends:\n{tail}"
                    )
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise BenchError(
                        f"{folder}/app.py did not answer within {START_TIMEOUT_S:.0f} s; see {log}"
                    )
                if listening is None:
                    if not _listening(port):
                        time.sleep(0.02)
                        continue
                    listening = time.perf_counter() - started
                try:
                    client = Client(url, verbose=False)
                    client.predict(handle_file(str(image)), api_name="/predict")
                except Exception:  # still starting its app
                    time.sleep(0.05)
                    continue
                return listening, time.perf_counter() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def import_gradio_seconds(python: str) -> float:
    """A process that only imports gradio, start to exit: what no Gradio app can avoid."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    started = time.perf_counter()
    subprocess.run([python, "-c", "import gradio"], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def time_cold_starts(
    apps: dict[str, tuple[Path, str]], image: Path, starts: int, warmup: int, work: Path
) -> dict[str, dict[str, list[float]]]:
    """Per app (folder, Python): 'answer' (first API answer) and 'listening' (port open)
    times; plus 'import gradio' in our app's Python. Starts interleave the apps, rotating
    their order."""
    from tqdm import tqdm

    names = list(apps)
    times = {name: {"answer": [], "listening": []} for name in names}
    times["import gradio"] = {"answer": []}
    for i in tqdm(range(warmup + starts), desc="cold starts", file=sys.stderr):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            folder, python = apps[name]
            listening, answer = cold_start(folder, python, image, work / f"{name}.log")
            if i >= warmup:  # the first start of each fills the OS file cache
                times[name]["answer"].append(answer)
                times[name]["listening"].append(listening)
        seconds = import_gradio_seconds(apps["ours"][1])
        if i >= warmup:
            times["import gradio"]["answer"].append(seconds)
    return times


# ---------------------------------------------------------------------------------------
# In the browser


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static host: files as they are, JavaScript modules and WebAssembly with their types,
    and no cross-origin isolation headers (GitHub Pages can't send them)."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """`folder` on 127.0.0.1 on a free port, in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def page_config(folder: Path) -> dict:
    """The #demo-config settings the static page was written with."""
    import json
    import re

    page = (folder / "index.html").read_text("utf-8")
    match = re.search(r'id="demo-config">(.*?)</script>', page, re.S)
    if not match:
        raise BenchError(f"{folder}/index.html has no #demo-config settings")
    return json.loads(match[1])


def web_sites(args, work: Path, image: Path, built: dict[str, Path]) -> dict[str, dict[str, Path]]:
    """Per --web-archs model: its bundle from `training` and the static page written twice
    from it, {"bundle": .., "fp32": folder, "int8": folder}, the folders under work/web/.
    `built`: bundles from `training` this run already has, by architecture, at --size."""
    import json

    from demos import space

    data = write_dataset(work / "web-data", per_label=4)
    sites = {}
    for arch in args.web_archs:
        if arch in built:  # the same recipe: only its weights would differ
            bundle = built[arch]
        else:
            print(f"in-browser page: building a {arch} bundle at {args.size} px", flush=True)
            bundle = training_bundle(args, data, work, arch=arch, name=f"web-{arch}")
        meta_path = bundle / "model.json"
        original = meta_path.read_text("utf-8")
        meta = json.loads(original)
        if not meta.get("int8"):
            raise BenchError(f"{meta_path}: `training` wrote no int8 model")
        sites[arch] = {"bundle": bundle}
        try:
            for precision in ("fp32", "int8"):
                # The page runs the int8 file when model.json prefers it, model.onnx otherwise.
                meta["int8"]["preferred"] = precision == "int8"
                meta_path.write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
                folder = work / "web" / f"{arch}-{precision}"
                space.build_static_space(bundle.name, folder, models=bundle.parent)
                written = page_config(folder).get("precision")
                if written != precision:
                    raise BenchError(
                        f"{folder}: the page was written to run {written}, not {precision}"
                    )
                shutil.copy2(image, folder / "bench-request.jpg")
                sites[arch][precision] = folder
        finally:
            meta_path.write_text(original, "utf-8")
    return sites


def _kind(name: str, model_file: str) -> str:
    """Which part of the page weight a file is: the runtime, the model or the page."""
    if name.startswith("ort/"):
        return "runtime"
    return "model" if name == model_file else "page"


def open_page(browser, url: str, model_file: str):
    """Open the page in a fresh browser context (nothing cached) and wait until its model is
    loaded; clicks "Load the model" when the page asks first (a model over 30 MB). Returns
    (page, figures): seconds from goto to ready, bytes downloaded until then by part and by
    file, whether it asked, whether it was cross-origin isolated."""
    from urllib.parse import urlsplit

    context = browser.new_context()
    page = context.new_page()
    finished, elsewhere, failed = [], [], []
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(url) or r.url.startswith("data:") else elsewhere.append(r.url)
        ),
    )
    page.on("requestfinished", lambda r: finished.append(r))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    settled = (
        "() => ['ready', 'ready-to-load', 'unsupported', 'error']"
        ".includes(document.body.dataset.state)"
    )
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(settled, timeout=WEB_TIMEOUT_MS, polling=10)
    asked = page.evaluate("document.body.dataset.state") == "ready-to-load"
    if asked:  # the reader's click, at once
        page.click("#load")
        page.wait_for_function(
            settled.replace("'ready-to-load', ", ""), timeout=WEB_TIMEOUT_MS, polling=10
        )
    seconds = time.perf_counter() - started
    state = page.evaluate("document.body.dataset.state")
    if state != "ready":
        status = page.inner_text("#status")
        context.close()
        raise BenchError(f"{url}: the page ended in state {state!r}: {status}")
    files: dict[str, int] = {}
    prefix = urlsplit(url).path
    for request in list(finished):
        if request.url.startswith("data:"):
            continue
        name = urlsplit(request.url).path.removeprefix(prefix) or "index.html"
        files[name] = files.get(name, 0) + request.sizes()["responseBodySize"]
    if elsewhere or failed:
        context.close()
        raise BenchError(
            f"{url}: requests outside the page's folder or failed: {', '.join(elsewhere + failed)}"
        )
    split = {"runtime": 0, "model": 0, "page": 0}
    for name, size in files.items():
        split[_kind(name, model_file)] += size
    figures = {
        "load_s": seconds,
        "asked": asked,
        "bytes": {**split, "total": sum(split.values())},
        "files": dict(sorted(files.items())),
        "isolated": page.evaluate("self.crossOriginIsolated"),
    }
    return page, figures


PREDICT_JS = """async ([url, n, what]) => {
  window.benchImage ??= await (await fetch(url)).blob();
  const times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    if (what === "predict") await window.demo.predict(window.benchImage, "request.jpg");
    else await window.demo.preprocess(window.benchImage);
    times.push(performance.now() - start);
  }
  return {times, state: document.body.dataset.state,
          status: document.getElementById("status").textContent};
}"""


def in_page(page, n: int, what: str = "predict") -> list[float]:
    """Seconds of each of `n` predictions (or preprocessings) of the request image in the page."""
    out = page.evaluate(PREDICT_JS, ["bench-request.jpg", n, what])
    if what == "predict" and out["state"] != "done":
        raise BenchError(
            f"{page.url}: the prediction ended in state {out['state']!r}: {out['status']}"
        )
    return [ms / 1000 for ms in out["times"]]


def web_model(args, browser, base: str, site: dict, image: Path) -> dict:
    """Load times, page weight and prediction times of one model's page, fp32 and int8."""
    from demos import runtime

    precisions = ("fp32", "int8")
    loads: dict[str, list[dict]] = {p: [] for p in precisions}
    pages = {}
    try:
        for i in range(args.web_loads):  # interleaved; the last open page of each stays
            for precision in precisions[i % 2 :] + precisions[: i % 2]:
                folder = site[precision]
                page, figures = open_page(
                    browser, f"{base}{folder.name}/", page_config(folder)["model"]
                )
                loads[precision].append(figures)
                if i < args.web_loads - 1:
                    page.context.close()
                else:
                    pages[precision] = page
        for page in pages.values():  # warm-up: WebAssembly's optimising tier, buffers
            in_page(page, 3)
        rounds: dict[str, list[float]] = {p: [] for p in precisions}
        for r in range(args.web_rounds):
            for precision in precisions[r % 2 :] + precisions[: r % 2]:
                pages[precision].bring_to_front()
                times = in_page(pages[precision], args.web_per_round)
                rounds[precision].append(statistics.median(times))
        out = {}
        for precision, page in pages.items():
            page.bring_to_front()
            shown = page.eval_on_selector_all(
                "[data-testid=prediction] > li",
                "items => items.map(li => [li.dataset.label, Number(li.dataset.probability)])",
            )
            native = runtime.load(site["bundle"], precision=precision).predict(str(image))
            first = loads[precision][0]
            out[precision] = {
                "predict_s": statistics.median(rounds[precision]),
                "rounds": rounds[precision],
                "preprocess_s": statistics.median(in_page(page, 5, "preprocess")),
                "load_s": statistics.median(f["load_s"] for f in loads[precision]),
                "loads_s": [f["load_s"] for f in loads[precision]],
                "bytes": first["bytes"],
                "files": first["files"],
                "asked": first["asked"],
                "isolated": first["isolated"],
                # The page against demos.runtime on the same file: preprocessing and runtime
                # parity (the page shows 4 decimals).
                "max_probability_difference_vs_native": max(
                    abs(p - native[label]) for label, p in shown
                ),
                "same_top_class_as_native": shown[0][0] == max(native, key=native.get),
            }
        return out
    finally:
        for page in pages.values():
            page.context.close()


def time_in_browser(args, work: Path, image: Path, built: dict[str, Path]) -> dict:
    """{arch: {"fp32": figures, "int8": figures}} for every --web-archs model; `built` as
    for web_sites."""
    if not Path(CHROMIUM).exists():
        raise BenchError(f"{CHROMIUM} is missing: apt-get install chromium (or --skip-web)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BenchError(
            "playwright is not installed in this Python: pip install -e "
            "'.[dev]' (or run with --skip-web)"
        ) from None
    sites = web_sites(args, work, image, built)
    results = {}
    with serve(work / "web") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for arch, site in sites.items():
                print(
                    f"in-browser page: {arch}, {args.web_loads} load(s) and "
                    f"{args.web_rounds} round(s) each of fp32 and int8",
                    flush=True,
                )
                results[arch] = web_model(args, browser, base, site, image)
        finally:
            browser.close()
    return results


def onnxruntime_web_version() -> str | None:
    """The version of ONNX Runtime Web the page copies (from ./node_modules)."""
    import json

    try:
        package = ROOT / "node_modules" / "onnxruntime-web" / "package.json"
        return json.loads(package.read_text("utf-8")).get("version")
    except (OSError, ValueError):
        return None


def web_lines(web: dict) -> list[str]:
    lines = []
    for arch, sides in web.items():
        for precision, f in sides.items():
            b = f["bytes"]
            lines.append(
                f"in the browser, {arch} {precision}: prediction {f['predict_s'] * 1000:.1f} ms "
                f"(preprocessing {f['preprocess_s'] * 1000:.1f} ms), load {f['load_s']:.2f} s"
                f"{' after the click it asks for' if f['asked'] else ''}, "
                f"{b['total'] / 1e6:.1f} MB (runtime {b['runtime'] / 1e6:.1f}, model "
                f"{b['model'] / 1e6:.1f}, page {b['page'] / 1e6:.2f})"
            )
    return lines


# ---------------------------------------------------------------------------------------


def build_bundle(args, data: Path, work: Path, peer: bool):
    """(bundle, fastai export or None, Learner or None, int8 quality figures): from fastai's
    Learner with its int8 model quantised here, or from `training` without fastai."""
    if not peer:
        import json

        bundle = training_bundle(args, data, work)
        # `training` measured its int8 model on its own validation split: for the record.
        quantiser = json.loads((bundle / "model.json").read_text("utf-8"))["int8"]
        return bundle, None, None, {"quantiser": quantiser}
    export, bundle, split = fastai_bundle(args, data, work)
    learn = load_fastai(export)
    print("quantising its model.onnx to int8", flush=True)
    quality = {"quantiser": quantise_bundle(bundle, split)}
    quality.update(agreement(bundle, split["valid"]))
    return bundle, export, learn, quality


def run(args, work: Path) -> Path:
    began = time.perf_counter()
    phases: dict[str, float] = {}  # seconds each part of the run took, for the record
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure

    def lap(name: str) -> None:
        phases[name] = time.perf_counter() - began - sum(phases.values())

    info = common.machine()
    print(f"machine: {common.describe(info)}")
    peer = not args.skip_peer
    if peer:
        try:
            import fastai  # noqa: F401
        except ImportError:
            raise BenchError(
                "fastai is not installed in this Python: pip install -e "
                "'.[bench]' (or run with --skip-peer for ours and the floor "
                "only)"
            ) from None
    image = check_image(args.image) if args.image else write_request_image(work / "request.jpg")
    data = write_dataset(work / "data", args.images_per_label)
    print(
        f"{args.arch} at {args.size} px, one {image.name} per request; building the bundle",
        flush=True,
    )
    bundle, export, learn, quality = build_bundle(args, data, work, peer)
    lap("bundle and int8")
    sides, checks = prediction_sides(args, bundle, image, learn)
    rounds = time_predictions(sides, args.rounds, args.per_round)
    median = {name: statistics.median(values) for name, values in rounds.items()}

    lap("prediction")
    crowd = measure_crowd(bundle, image, args.crowd) if args.crowd > 0 else None
    lap("crowd")
    # Without the peer, the bundle timed above comes from `training`: the page can run it.
    built = {} if peer else {args.arch: bundle}
    web = {} if args.skip_web else time_in_browser(args, work, image, built)
    lap("in the browser")

    space = work / "space"
    run_command(
        [
            sys.executable,
            "-m",
            "demos",
            "space",
            NAME,
            "--models",
            str(bundle.parent),
            "--out",
            str(space),
        ],
        "python -m demos space",
    )
    # Absolute: the app starts in its own folder, where a relative path would not resolve.
    python = (
        os.path.abspath(args.space_python)
        if args.space_python
        else space_python(space / "requirements.txt")
    )
    # The Space runs model.int8.onnx when the bundle prefers it (and then ships it).
    space_model = next(n for n in ("model.int8.onnx", "model.onnx") if (space / n).is_file())
    apps = {"ours": (space, python)}
    if peer:
        peer_folder = work / "fastai_app"
        peer_folder.mkdir()
        shutil.copy2(PEER_APP, peer_folder / "app.py")
        shutil.copy2(export, peer_folder / "export.pkl")
        apps["fastai"] = (peer_folder, sys.executable)
    starts = time_cold_starts(apps, image, args.starts, 0 if args.quick else 1, work)
    lap("cold start")
    start_median = {name: statistics.median(runs["answer"]) for name, runs in starts.items()}
    listening = {
        name: statistics.median(runs["listening"])
        for name, runs in starts.items()
        if "listening" in runs
    }

    comparisons = []
    if peer:
        comparisons.append(
            common.comparison(
                "prediction, one image, default threads",
                median["ours"],
                median["fastai"],
                peer_name="fastai learn.predict",
                unit="s",
                at_most=GOAL_PEER,
            )
        )
        # Our runtime runs each request on ONNX_THREADS (1) thread; torch on 1 too.
        comparisons.append(
            common.comparison(
                "prediction, one image, 1 thread each",
                median["ours"],
                median["fastai_1_thread"],
                peer_name="fastai learn.predict, 1 torch thread",
                unit="s",
                at_most=GOAL_PEER,
            )
        )
    comparisons.append(
        common.comparison(
            "prediction vs the floor",
            median["ours"],
            median["floor"],
            peer_name="bare onnxruntime run",
            unit="s",
            at_most=GOAL_FLOOR,
        )
    )
    if peer:
        comparisons.append(
            common.comparison(
                "prediction, int8 model, 1 thread each",
                median["ours_int8"],
                median["fastai_1_thread"],
                peer_name="fastai learn.predict, 1 torch thread",
                unit="s",
                at_most=GOAL_INT8,
            )
        )
        comparisons.append(
            common.comparison(
                f"int8 top-1 agreement with fp32, {quality['n_valid']} validation images",
                quality["agreement"],
                1.0,
                peer_name="the fp32 model itself",
                unit="share",
                at_least=GOAL_AGREEMENT,
            )
        )
    if peer:
        comparisons.append(
            common.comparison(
                "cold start to first answer",
                start_median["ours"],
                start_median["fastai"],
                peer_name="fastai + Gradio app",
                unit="s",
                at_most=GOAL_START,
            )
        )
    for c in comparisons:
        print(common.line(c))
    print(
        f"for the record: the floor with ONNX Runtime's default threads "
        f"{median['floor_default_threads']:.4g} s; our cold start {start_median['ours']:.3g} s"
        + ("" if peer else " (fastai skipped: --skip-peer)")
    )
    print(
        "for the record, cold start: "
        + "; ".join(
            f"{name} listening after {seconds:.3g} s" for name, seconds in listening.items()
        )
        + f"; `python -c 'import gradio'` takes {start_median['import gradio']:.3g} s"
    )
    if "ours_int8" in median:
        print(
            f"for the record: int8 {median['ours_int8']:.4g} s, its floor "
            f"{median['floor_int8']:.4g} s (fp32 {median['ours']:.4g} s, floor "
            f"{median['floor']:.4g} s)"
        )
    if "agreement" in quality:
        print(
            f"accuracy on {quality['n_valid']} validation images: fp32 "
            f"{quality['accuracy_fp32']:.2%}, int8 {quality['accuracy_int8']:.2%}; top-1 "
            f"agreement {quality['agreement']:.2%}"
        )
    for text in web_lines(web):
        print(text)
    for key, value in checks.items():
        print(f"  {key}: {value}")
    note = (
        f"ours runs ONNX Runtime on {runtime_threads()} thread per request (a Space serves "
        "two requests at once on 2 vCPUs)"
        + (
            f"; learn.predict runs on torch's default {checks['torch_threads']} threads, "
            "so the 1-thread comparison is the like-for-like one"
            if peer
            else ""
        )
    )
    if args.note:
        note += "; " + args.note.rstrip(".")
    print(f"note: {note}")
    series = {
        "note": note,
        "settings": {
            "arch": args.arch,
            "size": args.size,
            "image": image.name,
            "rounds": args.rounds,
            "per_round": args.per_round,
            "starts": args.starts,
            "quick": args.quick,
            "peer": peer,
            "space_python": "given" if args.space_python else "requirements.txt venv",
            "space_model": space_model,
            "images_per_label": args.images_per_label,
            "labels": list(LABELS),
            "epochs": args.epochs,
            **checks,
        },
        "prediction_s": {"median": median, "rounds": rounds},
        "cold_start_s": {"median": start_median, "listening_median": listening, "runs": starts},
        "int8": quality,
        "crowd": crowd,  # None when skipped (--crowd 0)
    }
    if web:
        series["web"] = {
            "settings": {
                "archs": args.web_archs,
                "size": args.size,
                "loads": args.web_loads,
                "rounds": args.web_rounds,
                "per_round": args.web_per_round,
                "browser": "headless Chromium (/usr/bin/chromium)",
                "threads": 1,
                "headers": "no cross-origin isolation",
                "onnxruntime_web": onnxruntime_web_version(),
            },
            "models": web,
        }
    series["wall_s"] = time.perf_counter() - began
    series["phases_s"] = phases
    series["load_average"] = {"start": load_before, "end": os.getloadavg()[0]}
    common.RESULTS = args.results_dir  # write_results writes to common.RESULTS
    path = common.write_results("demo", comparisons, series, info)
    print(
        "took "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in phases.items())
        + f": {series['wall_s'] / 60:.1f} min in all"
    )
    print(f"wrote {path}")
    return path


def main(argv=None) -> int:
    args = parse(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-demo-"))
    work = work.resolve()
    if args.work and work.exists() and any(work.iterdir()):
        print(f"--work {work} is not empty: give a new or empty folder.", file=sys.stderr)
        return 2
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    except BenchError as error:
        print(f"bench/demo.py: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
