"""Demo latency and cold start: our demo against fastai's learn.predict and its Gradio app.

    python bench/demo.py                  # resnet34 at 224 px, fastai from the bench extra
    python bench/demo.py --quick          # resnet18 at 64 px, fewer repeats: a smoke run
    python bench/demo.py --skip-peer      # ours and the ONNX Runtime floor only

One image per request, on the CPU, the same weights on every side. With fastai, a
`vision_learner(arch, pretrained=False)` is built on a small generated data set,
`learn.export()`-ed, and imported into a bundle with `python -m demos import-fastai`, so
the bundle's model.onnx is that Learner's network. (The weights are left untrained: the
time of a forward pass doesn't depend on their values, and no weights are downloaded.)
Without fastai (--skip-peer), `training` writes a bundle of the same architecture.

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

Each app runs in the environment its host would give it. Ours: a venv with exactly the
Space folder's requirements.txt (made once in bench/.venvs/, from the package index), as
a Space installs it. That matters: Gradio wraps every request in a check that imports
matplotlib when it is installed, which costs the first request ~0.3 s in an environment
that has it, such as this project's. The fastai app runs in this Python, which has fastai
and with it matplotlib, as its Space would. `--space-python` picks another Python for ours.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the repository

from bench import common  # noqa: E402

NAME = "demo-bench"
PEER_APP = Path(__file__).resolve().parent / "demo_peer" / "app.py"
VENVS = ROOT / "bench" / ".venvs"  # environments made for the apps (git-ignored)
LABELS = ("dawn", "dusk")
# Goals from issue 6, as ours / peer time.
GOAL_PEER = 0.5
GOAL_FLOOR = 1.3
GOAL_START = 0.5
# How long one app may take to answer its first request before the run is abandoned.
START_TIMEOUT_S = 180.0


class BenchError(Exception):
    """The benchmark can't run; the message says what and how to fix it."""


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: resnet18 at 64 px, 3 rounds, 1 start each")
    p.add_argument("--skip-peer", action="store_true",
                   help="run ours and the ONNX Runtime floor only (no fastai needed)")
    p.add_argument("--arch", default=None,
                   help="a torchvision resnet (default: resnet34; resnet18 with --quick)")
    p.add_argument("--size", type=int, default=None,
                   help="input size in pixels (default: 224; 64 with --quick)")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved prediction rounds (default: 9; 3 with --quick)")
    p.add_argument("--per-round", type=int, default=5,
                   help="predictions per side in each round (their median is the round's)")
    p.add_argument("--starts", type=int, default=None,
                   help="timed cold starts per app, interleaved (default: 5; 1 with --quick)")
    p.add_argument("--image", type=Path, default=None,
                   help="the request image (default: a generated 500x375 JPEG)")
    p.add_argument("--work", type=Path, default=None,
                   help="folder for the data, bundle, export and app folders, kept after the "
                        "run (default: a temporary folder, removed)")
    p.add_argument("--note", default="",
                   help="a remark stored with the figures and shown on the Benchmarks page, "
                        "e.g. that another job shared the cores")
    p.add_argument("--results-dir", type=Path, default=common.RESULTS,
                   help="where demo.json is written")
    p.add_argument("--space-python", default=None,
                   help="the Python that runs our Space app for the cold start (default: a "
                        "venv with exactly the Space's requirements.txt, made once in "
                        "bench/.venvs/ with pip)")
    args = p.parse_args(argv)
    args.arch = args.arch or ("resnet18" if args.quick else "resnet34")
    args.size = args.size or (64 if args.quick else 224)
    args.rounds = args.rounds or (3 if args.quick else 9)
    args.starts = args.starts or (1 if args.quick else 5)
    for option in ("size", "rounds", "per_round", "starts"):
        if getattr(args, option) < 1:
            p.error(f"--{option.replace('_', '-')} must be at least 1")
    if not args.arch.startswith("resnet"):
        p.error(f"--arch {args.arch}: use a torchvision resnet (resnet18, resnet34, resnet50)")
    return args


# ---------------------------------------------------------------------------------------
# Inputs: a generated data set, the request image, the bundle


def write_dataset(folder: Path, per_label: int = 8) -> Path:
    """Small JPEGs in one folder per label: warm (dawn) and cool (dusk) noisy gradients."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i, label in enumerate(LABELS):
        (folder / label).mkdir(parents=True, exist_ok=True)
        for n in range(per_label):
            tint = np.array([200, 120, 60] if i == 0 else [60, 90, 200], dtype=np.float32)
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
        raise BenchError(f"--image {path}: no such file; give a JPEG or PNG, or leave --image "
                         "out to use a generated one.")
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError) as error:
        raise BenchError(f"--image {path}: not an image Pillow can read ({error}); give a "
                         "JPEG or PNG.") from None
    return path


def run_command(command: list[str], what: str) -> None:
    """Run one of the project's commands; a failure stops the benchmark with its output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BenchError(f"{what} failed ({' '.join(command)}):\n{tail}")


def fastai_bundle(args, data: Path, work: Path) -> tuple[Path, Path]:
    """vision_learner -> learn.export() -> `python -m demos import-fastai`: (export, bundle)."""
    with warnings.catch_warnings():
        # fastai's import uses torch.jit.script, which torch now marks deprecated: not ours.
        warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit")
        from fastai.vision.all import ImageDataLoaders, Resize, error_rate, vision_learner
    from torchvision import models

    dls = ImageDataLoaders.from_folder(data, valid_pct=0.25, seed=42, bs=4, num_workers=0,
                                       item_tfms=Resize(args.size, method="squish"))
    learn = vision_learner(dls, getattr(models, args.arch), pretrained=False,
                           metrics=error_rate)
    # One short epoch, so BatchNorm's running statistics are real and the probabilities
    # aren't all 0 or 1 (which would make the agreement check below meaningless).
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1)
    export = work / "export.pkl"
    learn.export(export)  # an absolute path: fastai joins it to learn.path unchanged
    run_command([sys.executable, "-m", "demos", "import-fastai", str(export), "--name", NAME,
                 "--trust", "--models", str(work / "models")], "python -m demos import-fastai")
    return export, work / "models" / NAME


def training_bundle(args, data: Path, work: Path) -> Path:
    """Without fastai: the same architecture from `training`, trained one short epoch."""
    import training

    config = training.recipes.config(
        "folder", path=str(data), name=NAME, arch=args.arch, pretrained=False, size=args.size,
        resize="squish", schedule="one_cycle", epochs=1, freeze_epochs=0, batch_size=8,
        device="cpu", cache_dir="", examples_per_class=1, output=str(work / "models" / NAME))
    result = training.train(config, quiet=True)
    return training.export(result)


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
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(common.median_seconds(sides[name], per_round, warmup=0))
    return times


def prediction_sides(args, bundle: Path, image: Path, learn) -> tuple[dict, dict]:
    import numpy as np
    import onnxruntime as ort

    from demos import runtime

    model = runtime.load(bundle)
    meta = model.meta
    x = runtime.preprocess(runtime.open_image(image), meta["input"])[None]

    def session(threads: int | None):
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        return ort.InferenceSession(str(bundle / "model.onnx"), options,
                                    providers=["CPUExecutionProvider"])

    feeds = {meta["onnx"]["input"]: x}
    outputs = [meta["onnx"]["output"]]
    floor, floor_default = session(runtime.ONNX_THREADS), session(None)
    sides = {
        "ours": lambda: model.predict(str(image)),
        "floor": lambda: floor.run(outputs, feeds),
        "floor_default_threads": lambda: floor_default.run(outputs, feeds),
    }
    checks = {}
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
    digest = hashlib.sha256(requirements.read_bytes() + sys.version.encode()
                            + sys.executable.encode()).hexdigest()[:12]
    venv = VENVS / f"space-{digest}"
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return str(python)
    shutil.rmtree(venv, ignore_errors=True)
    print(f"making {venv} from the Space's requirements.txt (once)",
          flush=True)
    for command in ([sys.executable, "-m", "venv", str(venv)],
                    [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
            raise BenchError(f"could not make the Space's environment {venv} "
                             f"({' '.join(command[:4])} ...):\n{tail}\nWithout the package "
                             "index, pass --space-python with a Python that has gradio and "
                             "onnxruntime.")
    (venv / ".complete").touch()
    return str(python)


def cold_start(folder: Path, python: str, image: Path, log: Path) -> tuple[float, float]:
    """Seconds from starting `python app.py` in `folder` to (its port listening, its API's
    first answer)."""
    from gradio_client import Client, handle_file

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as on a host
    env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    url = f"http://127.0.0.1:{port}/"
    listening = None
    with open(log, "ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen([python, "app.py"], cwd=folder, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                    raise BenchError(f"{folder}/app.py exited with {process.returncode} "
                                     f"before answering; its log ({log}) ends:\n{tail}")
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise BenchError(f"{folder}/app.py did not answer within "
                                     f"{START_TIMEOUT_S:.0f} s; see {log}")
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
    subprocess.run([python, "-c", "import gradio"], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def time_cold_starts(apps: dict[str, tuple[Path, str]], image: Path, starts: int, warmup: int,
                     work: Path) -> dict[str, dict[str, list[float]]]:
    """Per app (folder, Python): 'answer' (first API answer) and 'listening' (port open)
    times; plus 'import gradio' in our app's Python. Starts interleave the apps, rotating
    their order."""
    from tqdm import tqdm

    names = list(apps)
    times = {name: {"answer": [], "listening": []} for name in names}
    times["import gradio"] = {"answer": []}
    for i in tqdm(range(warmup + starts), desc="cold starts", file=sys.stderr):
        for name in names[i % len(names):] + names[:i % len(names)]:
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


def run(args, work: Path) -> Path:
    info = common.machine()
    print(f"machine: {common.describe(info)}")
    peer = not args.skip_peer
    if peer:
        try:
            import fastai  # noqa: F401
        except ImportError:
            raise BenchError("fastai is not installed in this Python: pip install -e "
                             "'.[bench]' (or run with --skip-peer for ours and the floor "
                             "only)") from None
    image = check_image(args.image) if args.image else write_request_image(work / "request.jpg")
    data = write_dataset(work / "data")
    print(f"{args.arch} at {args.size} px, one {image.name} per request; building the bundle")
    learn = None
    if peer:
        export, bundle = fastai_bundle(args, data, work)
        learn = load_fastai(export)
    else:
        bundle = training_bundle(args, data, work)

    sides, checks = prediction_sides(args, bundle, image, learn)
    rounds = time_predictions(sides, args.rounds, args.per_round)
    median = {name: statistics.median(values) for name, values in rounds.items()}

    space = work / "space"
    run_command([sys.executable, "-m", "demos", "space", NAME, "--models",
                 str(bundle.parent), "--out", str(space)], "python -m demos space")
    # Absolute: the app starts in its own folder, where a relative path would not resolve.
    python = (os.path.abspath(args.space_python) if args.space_python
              else space_python(space / "requirements.txt"))
    apps = {"ours": (space, python)}
    if peer:
        peer_folder = work / "fastai_app"
        peer_folder.mkdir()
        shutil.copy2(PEER_APP, peer_folder / "app.py")
        shutil.copy2(export, peer_folder / "export.pkl")
        apps["fastai"] = (peer_folder, sys.executable)
    starts = time_cold_starts(apps, image, args.starts, 0 if args.quick else 1, work)
    start_median = {name: statistics.median(runs["answer"]) for name, runs in starts.items()}
    listening = {name: statistics.median(runs["listening"]) for name, runs in starts.items()
                 if "listening" in runs}

    comparisons = []
    if peer:
        comparisons.append(common.comparison(
            "prediction, one image, default threads", median["ours"], median["fastai"],
            peer_name="fastai learn.predict", unit="s", at_most=GOAL_PEER))
        # Our runtime runs each request on ONNX_THREADS (1) thread; torch on 1 too.
        comparisons.append(common.comparison(
            "prediction, one image, 1 thread each", median["ours"], median["fastai_1_thread"],
            peer_name="fastai learn.predict, 1 torch thread", unit="s", at_most=GOAL_PEER))
    comparisons.append(common.comparison(
        "prediction vs the floor", median["ours"], median["floor"],
        peer_name="bare onnxruntime run", unit="s", at_most=GOAL_FLOOR))
    if peer:
        comparisons.append(common.comparison(
            "cold start to first answer", start_median["ours"], start_median["fastai"],
            peer_name="fastai + Gradio app", unit="s", at_most=GOAL_START))
    for c in comparisons:
        print(common.line(c))
    print(f"for the record: the floor with ONNX Runtime's default threads "
          f"{median['floor_default_threads']:.4g} s; our cold start {start_median['ours']:.3g} s"
          + ("" if peer else " (fastai skipped: --skip-peer)"))
    print("for the record, cold start: "
          + "; ".join(f"{name} listening after {seconds:.3g} s" for name, seconds in
                      listening.items())
          + f"; `python -c 'import gradio'` takes {start_median['import gradio']:.3g} s")
    for key, value in checks.items():
        print(f"  {key}: {value}")
    note = (f"ours runs ONNX Runtime on {runtime_threads()} thread per request (a Space serves "
            "two requests at once on 2 vCPUs)"
            + (f"; learn.predict runs on torch's default {checks['torch_threads']} threads, "
               "so the 1-thread comparison is the like-for-like one" if peer else ""))
    if args.note:
        note += "; " + args.note.rstrip(".")
    print(f"note: {note}")
    series = {
        "note": note,
        "settings": {"arch": args.arch, "size": args.size, "image": image.name,
                     "rounds": args.rounds, "per_round": args.per_round,
                     "starts": args.starts, "quick": args.quick, "peer": peer,
                     "space_python": "given" if args.space_python else "requirements.txt venv",
                     **checks},
        "prediction_s": {"median": median, "rounds": rounds},
        "cold_start_s": {"median": start_median, "listening_median": listening,
                         "runs": starts},
    }
    common.RESULTS = args.results_dir  # write_results writes to common.RESULTS
    path = common.write_results("demo", comparisons, series, info)
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
