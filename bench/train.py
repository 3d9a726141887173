"""fastai's fine_tune vs ours: same images, architecture, size, batch size and epochs.

    python bench/train.py                        # digits, resnet18 from scratch, CPU
    python bench/train.py --data data/bears --pretrained --device cuda --size 224 --epochs 2

Both train the same folder-per-label images with a 20% seeded validation split,
`fine_tune(epochs, freeze_epochs)` at base_lr 2e-3, batch augmentation of the same kind
(flip, rotate, zoom, warp, lighting, RandomResizedCrop min_scale 0.75) and print, with
the machine they ran on: images per second (trained images / wall time of the whole fit,
data loading included), the ratio, and the error rates, each the median of `--repeats`
runs that alternate ours and fastai's (so a busy machine slows both alike). fastai comes
from the `bench` extra; without it, only our side runs and the report says so.

On a GPU both train in bfloat16 mixed precision (ours by default, fastai with
`to_bf16()`); on the CPU both stay in float32.

The networks differ in one place: fastai's vision_learner replaces torchvision's head
with its own (concat pooling, BatchNorm, dropout, two Linear layers); ours keeps
torchvision's single Linear head, as the bundle contract requires.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the repository


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--data",
        default="digits",
        help="'digits' (scikit-learn's, written to data/digits) or a folder with one "
        "subfolder per label",
    )
    p.add_argument("--arch", default="resnet18", help="a torchvision resnet")
    p.add_argument("--size", type=int, default=64, help="training and validation image size")
    p.add_argument("--batch-size", type=int, default=64, help="images per step")
    p.add_argument("--epochs", type=int, default=1, help="fine_tune's unfrozen epochs")
    p.add_argument("--freeze-epochs", type=int, default=1, help="fine_tune's frozen epochs")
    p.add_argument(
        "--pretrained",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="ImageNet weights (needs internet once); off for offline machines",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="fastai DataLoader workers; ours decodes with threads (0: all cores)",
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="runs of each, alternating; the medians are reported"
    )
    p.add_argument("--skip-fastai", action="store_true", help="run only ours")
    p.add_argument(
        "--note",
        default="",
        help="a remark stored with the figures and shown on the Benchmarks page",
    )
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def folder_of(args) -> Path:
    if args.data != "digits":
        return Path(args.data)
    from training.recipes.digits import write_images

    return write_images(ROOT / "data" / "digits")


def run_ours(args, folder: Path) -> dict:
    import training

    config = training.recipes.config(
        "folder",
        path=str(folder),
        arch=args.arch,
        pretrained=args.pretrained,
        size=args.size,
        resize="crop",
        presize=1.25,
        batch_size=args.batch_size,
        epochs=args.epochs,
        freeze_epochs=args.freeze_epochs,
        device=args.device,
        workers=args.workers,
        cache_dir="",
    )  # no decoded-image cache from an earlier run: time the decoding too
    started = time.perf_counter()
    result = training.train(config, quiet=True)
    seconds = time.perf_counter() - started
    images = len(result.data.train) * (args.epochs + args.freeze_epochs)
    return {
        "name": "ours",
        "seconds": seconds,
        "images_per_s": images / seconds,
        "error_rate": result.metrics["error_rate"],
        "n_train": len(result.data.train),
    }


def run_fastai(args, folder: Path) -> dict:
    from fastai.vision.all import (  # the bench extra; imported only here
        ImageDataLoaders,
        Resize,
        aug_transforms,
        error_rate,
        vision_learner,
    )
    from torchvision import models

    arch = getattr(models, args.arch)
    dls = ImageDataLoaders.from_folder(
        folder,
        valid_pct=0.2,
        seed=42,
        item_tfms=Resize(round(args.size * 1.25)),
        batch_tfms=aug_transforms(size=args.size, min_scale=0.75),
        bs=args.batch_size,
        num_workers=args.workers,
        device=args.device,
    )
    learn = vision_learner(dls, arch, pretrained=args.pretrained, metrics=error_rate)
    if args.device.startswith("cuda"):
        # Ours trains in bfloat16 autocast on CUDA (the bf16 setting); fastai gets the same.
        learn = learn.to_bf16()
    started = time.perf_counter()
    with learn.no_bar(), learn.no_logging():
        learn.fine_tune(args.epochs, freeze_epochs=args.freeze_epochs)
        seconds = time.perf_counter() - started
        error = float(learn.validate()[1])
    n_train = len(dls.train_ds)
    images = n_train * (args.epochs + args.freeze_epochs)
    return {
        "name": "fastai",
        "seconds": seconds,
        "images_per_s": images / seconds,
        "error_rate": error,
        "n_train": n_train,
    }


def median_row(runs: list[dict]) -> dict:
    """The median images/s, seconds and error rate of several runs of one trainer."""
    row = dict(runs[0])
    for key in ("images_per_s", "seconds", "error_rate"):
        row[key] = statistics.median(r[key] for r in runs)
    row["runs"] = len(runs)
    return row


def main(argv=None) -> int:
    args = parse(argv)
    folder = folder_of(args)
    import torch

    sys.path.insert(0, str(ROOT / "bench"))
    import common

    info = common.machine()
    print(f"machine: {common.describe(info)}")
    print(
        f"data {folder}, {args.arch}, size {args.size}, batch {args.batch_size}, "
        f"fine_tune({args.epochs}, freeze_epochs={args.freeze_epochs}), "
        f"pretrained={args.pretrained}, device {args.device}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, {args.repeats} run(s) each"
    )
    note, with_fastai = "", False
    if args.skip_fastai:
        note = "fastai skipped (--skip-fastai)"
    else:
        try:
            import fastai
        except ImportError:
            note = (
                "fastai is not installed here: pip install -e '.[bench]' (or fastai>=2.7) "
                "to compare; only ours ran"
            )
        else:
            with_fastai = True
    ours_runs, fastai_runs = [], []
    for i in range(args.repeats):
        ours_runs.append(run_ours(args, folder))
        print(f"run {i + 1}: ours {ours_runs[-1]['images_per_s']:.1f} images/s", end="")
        if with_fastai:
            fastai_runs.append(run_fastai(args, folder))
            print(f", fastai {fastai_runs[-1]['images_per_s']:.1f} images/s", end="")
        print(flush=True)
    rows = [median_row(ours_runs)] + ([median_row(fastai_runs)] if with_fastai else [])
    print(f"median of {args.repeats}:")
    print(f"{'':8}{'images/s':>10}{'seconds':>10}{'error_rate':>12}{'n_train':>9}")
    for row in rows:
        print(
            f"{row['name']:8}{row['images_per_s']:>10.1f}{row['seconds']:>10.1f}"
            f"{row['error_rate']:>12.4f}{row['n_train']:>9}"
        )
    if note:
        print(note)
    if len(rows) == 2:
        ours, fastai = rows
        ratio = ours["images_per_s"] / fastai["images_per_s"]
        met = ratio >= 2 and ours["error_rate"] <= fastai["error_rate"]
        c = common.comparison(
            f"training throughput, {args.arch} {args.size} px, {args.device}",
            ours["images_per_s"],
            fastai["images_per_s"],
            peer_name="fastai fine_tune",
            unit="images/s",
            goal=">= 2x, error rate no worse",
            met=met,
        )
        print(common.line(c))
        # CPU figures go to train.json, GPU ones to train-cuda.json: the page shows both.
        device_type = args.device.split(":")[0]
        name = "train" if device_type == "cpu" else f"train-{device_type}"
        path = common.write_results(
            name,
            [c],
            {
                "error_rate": {"ours": ours["error_rate"], "fastai": fastai["error_rate"]},
                "seconds": {"ours": ours["seconds"], "fastai": fastai["seconds"]},
                "images_per_s_runs": {
                    "ours": [r["images_per_s"] for r in ours_runs],
                    "fastai": [r["images_per_s"] for r in fastai_runs],
                },
                "n_train": ours["n_train"],
                "repeats": args.repeats,
                "note": args.note,
                "setup": {
                    "data": args.data,
                    "arch": args.arch,
                    "size": args.size,
                    "batch_size": args.batch_size,
                    "epochs": args.epochs,
                    "freeze_epochs": args.freeze_epochs,
                    "pretrained": args.pretrained,
                    "device": args.device,
                },
            },
            info,
        )
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
