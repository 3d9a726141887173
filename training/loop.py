"""The training run, top to bottom: data, model, (lr_find), fine_tune's cycles, final metrics.

`train(config)` returns a `Result` holding the trained model and everything the report and
the bundle need; `training.export(result)` writes the bundle. Under `torchrun` the same code
trains with DistributedDataParallel: each process takes its share of every epoch's batches,
and process 0 validates, prints and returns the result (the others return None).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import augment as aug
from . import data as data_mod
from . import models, schedule
from .config import Config
from .images import IMAGENET_MEAN, IMAGENET_STD
from .progress import tqdm


@dataclass
class Result:
    config: Config  # the resolved config, as saved in model.json's recipe
    model: torch.nn.Module  # the trained network, on the CPU, in eval mode
    labels: list[str]
    data: data_mod.Data
    history: list[dict] = field(default_factory=list)  # one row per epoch (the printed table)
    metrics: dict = field(default_factory=dict)  # accuracy, error_rate, valid_loss, n_valid, ...
    probs: torch.Tensor | None = None  # validation probabilities (n_valid, n_classes)
    losses: torch.Tensor | None = None  # validation loss per image
    lr_find: dict | None = None  # lrs, losses, suggestion (when config.lr_find)
    interrupted: bool = False  # stopped by Ctrl-C; the model is the best epoch so far
    schedule: list[dict] = field(default_factory=list)  # per step: phase, pos, LRs, momenta
    seconds: float = 0.0


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"device {name!r} is not a device name; use cpu, cuda, cuda:N, mps or auto"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            seen = f"{count} CUDA GPU(s)" if count else "no CUDA GPU"
            raise ValueError(
                f"device {name!r} asked for, but torch sees {seen}; use --device cpu or auto"
            )
    if device.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ValueError(
            f"device {name!r} asked for, but MPS is not available here; use --device cpu or auto"
        )
    return device


def load_data(config: Config, progress: bool = True) -> data_mod.Data:
    """Items by `labels_from`, then split, checked and decoded (see training.data)."""
    if config.labels_from == "folder":
        items, skipped = data_mod.items_from_folders(config.path)
    elif config.labels_from == "regex":
        items, skipped = data_mod.items_from_regex(config.path, config.label_regex)
    elif config.labels_from == "csv":
        items, skipped = data_mod.items_from_csv(config.path), []
    else:
        raise data_mod.DataError(
            f"labels_from must be folder, regex or csv, not {config.labels_from!r}"
        )
    return data_mod.load(items, config, skipped, progress)


class Batches:
    """Turns stored uint8 images into normalized float batches on the device."""

    def __init__(self, config: Config, device: torch.device, generator: torch.Generator):
        self.config, self.device, self.g = config, device, generator
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
        self.memory_format = (
            torch.channels_last if config.channels_last else torch.contiguous_format
        )

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / self.std).contiguous(memory_format=self.memory_format)

    def train(self, images: torch.Tensor, size: int) -> torch.Tensor:
        x = images.to(self.device, non_blocking=True)
        return self._finish(aug.augment(x, self.config, (size, size), self.g))

    def valid(self, images: torch.Tensor) -> torch.Tensor:
        return self._finish(images.to(self.device, non_blocking=True).float() / 255)


def evaluate(
    model, dataset: data_mod.Dataset, batches: Batches, batch_size: int, autocast, tta: bool = False
):
    """Validation probabilities and per-image cross-entropy (optionally fastai-style TTA)."""
    model.eval()
    outputs = []
    with torch.no_grad(), autocast():
        for start in range(0, len(dataset), batch_size * 2):
            images = dataset.images[start : start + batch_size * 2]
            if not tta:
                logits = model(batches.valid(images)).float()
                outputs.append(logits.softmax(1).cpu())
                continue
            # fastai's tta: 4 augmented passes averaged, then 25% of the plain prediction.
            plain = model(batches.valid(images)).float().softmax(1)
            size = images.shape[-1]
            augmented = torch.stack(
                [model(batches.train(images, size)).float().softmax(1) for _ in range(4)]
            ).mean(0)
            outputs.append(torch.lerp(augmented, plain, 0.25).cpu())
    probs = torch.cat(outputs)
    losses = F.nll_loss(probs.clamp_min(1e-12).log(), dataset.targets, reduction="none")
    return probs, losses


def lr_find(
    model,
    train,
    batches: Batches,
    opt,
    config: Config,
    autocast,
    steps: int = 100,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
) -> dict:
    """fastai's LR range test: exponential LRs, smoothed loss, stop on divergence; undone after."""
    saved = copy.deepcopy(model.state_dict())
    model.train()
    lrs, losses = [], []
    smooth, best, n = 0.0, math.inf, len(train)
    batch_size = min(config.batch_size, n)
    order = torch.randperm(n, generator=batches.g)
    for step in range(steps):
        lr = start_lr * (end_lr / start_lr) ** (step / (steps - 1))
        for group in opt.param_groups:
            group["lr"], group["betas"] = lr, (0.9, schedule.BETA2)
        start = (step * batch_size) % max(n - batch_size + 1, 1)
        idx = order[start : start + batch_size]
        x, y = batches.train(train.images[idx], config.size), train.targets[idx].to(batches.device)
        with autocast():
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # fastai's smoothed loss: an exponential moving average with bias correction.
        smooth = 0.98 * smooth + 0.02 * loss.item()
        value = smooth / (1 - 0.98 ** (step + 1))
        lrs.append(lr)
        losses.append(value)
        best = min(best, value)
        if not math.isfinite(value) or value > 4 * best:
            break
    model.load_state_dict(saved)
    # Like fastai, suggest from the curve without its first 10% and its last 5 points.
    lo, hi = steps // 10, max(len(lrs) - 5, steps // 10 + 2)
    return {"lrs": lrs, "losses": losses, "suggestion": valley(lrs[lo:hi], losses[lo:hi])}


def valley(lrs: list[float], losses: list[float]) -> float:
    """The LR halfway along the longest run of decreasing losses (fastai's "valley")."""
    n = len(losses)
    if n == 0:
        return 1e-3
    chain = [1] * n  # chain[i]: the longest strictly decreasing subsequence ending at i
    for i in range(n):
        for j in range(i):
            if losses[i] < losses[j]:
                chain[i] = max(chain[i], chain[j] + 1)
    end = max(range(n), key=lambda i: (chain[i], -i))
    first = end - chain[end] + 1
    return float(lrs[first + (end - first) // 2])


def _setup_distributed():
    """(rank, world size, local rank); starts the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, 0
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return dist.get_rank(), world, local


def _on_device(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The decoded training images on the GPU when they fit in a quarter of its free memory:
    then a batch is a GPU gather, and no loader process can starve the GPU."""
    if device.type != "cuda":
        return images
    free, _ = torch.cuda.mem_get_info(device)
    return images.to(device) if images.numel() < free / 4 else images


def _leave_group(together: bool) -> None:
    """End this process's part in the process group, with the others when `together`.

    DDP wrappers sit in reference cycles and hold the group: left to the garbage collector,
    one can outlive the interpreter's shutdown, and its Gloo threads then abort the process
    ("terminate called without an active exception"), after which torchrun stops process 0
    before it writes the bundle. So they are collected here, and the processes leave at the
    same point, after process 0's final metrics (not after a Ctrl-C, which the processes may
    not all have seen at the same step)."""
    import gc

    gc.collect()
    if together:
        torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def _check_in_sync(model: torch.nn.Module, device: torch.device, say) -> None:
    """Under DDP every process must end with the same weights; warn when they don't (a
    per-process setting, such as an LR, that differed)."""
    import torch.distributed as dist

    with torch.no_grad():
        total = sum(p.double().sum() for p in model.parameters()).reshape(1).to(device)
    low, high = total.clone(), total.clone()
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    if float(high - low) > 1e-6 * max(1.0, abs(float(high))):
        say(
            "Warning: the training processes ended with different weights; the bundle holds "
            "process 0's. Report this with the command you ran."
        )


def _epoch_sizes(config: Config, total_epochs: int) -> list[int]:
    """Image size per epoch: `size` throughout, or growing from size/2 (progressive resizing)."""
    if not config.progressive or total_epochs < 2:
        return [config.size] * total_epochs
    small = config.size // 2
    sizes = [
        int(round((small + (config.size - small) * e / (total_epochs - 1)) / 8) * 8)
        for e in range(total_epochs)
    ]
    # Multiples of 8 suit the hardware, but the last epoch trains at the size it is exported at.
    sizes[-1] = config.size
    return sizes


def _print_row(row: dict, header: bool = False) -> None:
    names = ["epoch", "train_loss", "valid_loss", "error_rate", "time"]
    if header:
        tqdm.write("  ".join(f"{n:>10}" for n in names))
    minutes, seconds = divmod(round(row["time"]), 60)
    tqdm.write(
        f"{row['epoch']:>10}  {row['train_loss']:>10.6f}  {row['valid_loss']:>10.6f}  "
        f"{row['error_rate']:>10.6f}  {f'{minutes:02d}:{seconds:02d}':>10}"
    )


@dataclass
class _Epochs:
    """What every epoch of a run shares, and the state carried from one epoch to the next
    (fastai's smoothed loss, the log of the LRs the optimizer held at each step)."""

    config: Config
    data: data_mod.Data
    batches: Batches
    train_images: torch.Tensor
    device: torch.device
    loss_fn: torch.nn.Module
    autocast: object
    mix_rng: np.random.Generator
    g: torch.Generator
    rank: int
    world: int
    batch_size: int
    steps_per_epoch: int
    show: bool  # progress bars (process 0, not quiet)
    smooth: float = 0.0
    smooth_steps: int = 0
    lr_log: list[dict] = field(default_factory=list)

    @property
    def train_loss(self) -> float:
        """The table's train_loss: fastai's smoothed loss (EMA, bias-corrected)."""
        return self.smooth / (1 - 0.98**self.smooth_steps)


def _train_epoch(run: _Epochs, runner, opt, phase, epoch: int, index: int, size: int) -> float:
    """One epoch of `phase` (the `index`-th of the run) at image size `size`; returns the
    smoothed train loss at its end."""
    config, device = run.config, run.device
    total_steps = phase.epochs * run.steps_per_epoch
    # The same permutation on every process; each takes its own share of it.
    order = torch.randperm(
        len(run.data.train), generator=torch.Generator().manual_seed(config.seed * 1000 + index)
    )[run.rank :: run.world]
    bar = tqdm(
        range(run.steps_per_epoch),
        desc=f"{phase.name} epoch {epoch}",
        leave=False,
        disable=not run.show,
        unit="batch",
    )
    for step in bar:
        pos = (epoch * run.steps_per_epoch + step) / total_steps
        schedule.set_hypers(opt, phase, pos)
        # The LRs as the optimizer holds them, per param group (tests check these).
        run.lr_log.append(
            {
                "phase": phase.name,
                "pos": pos,
                "lrs": [gr["lr"] for gr in opt.param_groups],
                "moms": [gr["betas"][0] for gr in opt.param_groups],
                "layer_groups": [gr["layer_group"] for gr in opt.param_groups],
            }
        )
        idx = order[step * run.batch_size : (step + 1) * run.batch_size]
        x = run.batches.train(run.train_images[idx.to(run.train_images.device)], size)
        y = run.data.train.targets[idx].to(device, non_blocking=True)
        if config.mixup > 0:
            # fastai's MixUp: each image blends with a shuffled partner, lam >= 0.5.
            lam = run.mix_rng.beta(config.mixup, config.mixup, size=len(idx))
            lam = torch.tensor(np.maximum(lam, 1 - lam), dtype=torch.float32, device=device)
            partner = torch.randperm(len(idx), generator=run.g).to(device)
            x = torch.lerp(x[partner], x, lam.view(-1, 1, 1, 1))
        with run.autocast():
            logits = runner(x).float()
        if config.mixup > 0:
            loss = torch.lerp(run.loss_fn(logits, y[partner]), run.loss_fn(logits, y), lam).mean()
        else:
            loss = run.loss_fn(logits, y).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run.smooth_steps += 1
        run.smooth = 0.98 * run.smooth + 0.02 * loss.item()
        bar.set_postfix(loss=f"{run.train_loss:.4f}")
    return run.train_loss


def _validate_epoch(
    run: _Epochs, model, phase, epoch: int, size: int, train_loss: float, started: float
) -> dict:
    """The epoch's row of the table: validation loss and error rate, on process 0."""
    probs, losses = evaluate(model, run.data.valid, run.batches, run.batch_size, run.autocast)
    error_rate = int((probs.argmax(1) != run.data.valid.targets).sum()) / len(run.data.valid)
    return {
        "phase": phase.name,
        "epoch": epoch,
        "train_loss": train_loss,
        "valid_loss": float(losses.mean()),
        "error_rate": error_rate,
        "size": size,
        "time": time.time() - started,
    }


@dataclass
class _Best:
    """The best epoch so far (lowest error rate, then validation loss) and its weights, on the
    CPU: what a Ctrl-C keeps."""

    state: dict | None = None
    key: tuple[float, float] | None = None

    def update(self, row: dict, model: torch.nn.Module) -> None:
        """Keep the model's weights when the epoch of `row` is the best so far."""
        key = (row["error_rate"], row["valid_loss"])
        if self.key is None or key < self.key:
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            self.key = key

    def restore(self, model: torch.nn.Module, say) -> None:
        """After a Ctrl-C: back to the best epoch's weights (none yet: stop, nothing to keep)."""
        if self.state is None:
            raise KeyboardInterrupt(
                "stopped before the first epoch ended: nothing to keep"
            ) from None
        say(f"Interrupted: keeping the best epoch so far (error_rate {self.key[0]:.4f}).")
        model.load_state_dict(self.state)


def _find_base_lr(run: _Epochs, plan, model, forward, groups, norm_ids, say) -> dict:
    """config.lr_find: run the LR finder (frozen as the first phase trains) and make its valley
    the config's base_lr, the same on every process; returns the finder's curve."""
    if plan and plan[0].frozen:
        models.freeze(model, groups)
    opt = schedule.optimizer(model, groups, norm_ids, run.config.weight_decay)
    found = lr_find(forward, run.data.train, run.batches, opt, run.config, run.autocast)
    if run.world > 1:
        # Each process ran the finder on its own batches; all must train with one LR
        # (DDP averages gradients, so different LRs would pull the copies apart).
        shared = [found["suggestion"]]
        torch.distributed.broadcast_object_list(shared, src=0)
        found["suggestion"] = shared[0]
    say(f"lr_find: the valley is at {found['suggestion']:.2e}; training with it as base_lr")
    run.config.base_lr = found["suggestion"]
    return found


def _start_phase(run: _Epochs, phase, model, forward, groups, norm_ids, local: int):
    """(optimizer, what runs the batches) for `phase`: the body frozen or not, a fresh
    optimizer, and under torchrun a DDP wrapper."""
    if phase.frozen:
        models.freeze(model, groups)
    else:
        models.unfreeze(model)
    opt = schedule.optimizer(model, groups, norm_ids, run.config.weight_decay)
    runner = forward
    if run.world > 1:
        # A new wrapper per phase: DDP only syncs parameters trainable when it was built.
        runner = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local] if run.device.type == "cuda" else None
        )
    return opt, runner


def _final_metrics(run: _Epochs, model) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """(metrics, probabilities, per-image losses) of `model` on the validation split.

    In float32 even after bf16 training: these are the numbers the exported model gives."""
    valid = run.data.valid
    probs, losses = evaluate(model, valid, run.batches, run.batch_size, contextlib.nullcontext)
    correct = int((probs.argmax(1) == valid.targets).sum())
    metrics = {
        "accuracy": correct / len(valid),
        "error_rate": (len(valid) - correct) / len(valid),
        "valid_loss": float(losses.mean()),
        "n_valid": len(valid),
    }
    if run.config.tta:
        tta_probs, _ = evaluate(
            model, valid, run.batches, run.batch_size, contextlib.nullcontext, tta=True
        )
        metrics["tta_accuracy"] = float((tta_probs.argmax(1) == valid.targets).float().mean())
    return metrics, probs, losses


def train(config: Config, data: data_mod.Data | None = None, quiet: bool = False) -> Result | None:
    """Train per `config` (resolved first); returns the Result on process 0 (None on others)."""
    config = config.resolved()
    started = time.time()
    rank, world, local = _setup_distributed()
    main = rank == 0
    if config.threads:
        torch.set_num_threads(config.threads)
    device = (
        torch.device("cuda", local)
        if world > 1 and torch.cuda.is_available()
        else pick_device(config.device)
    )
    say = (lambda *a: None) if (quiet or not main) else tqdm.write

    # --- data: every image checked and decoded once, before any training ---
    data = data or load_data(config, progress=not quiet and main)
    if data.skipped:
        say(data_mod.describe_skipped(data.skipped))
    say(
        f"{len(data.train)} training and {len(data.valid)} validation images, "
        f"{len(data.labels)} labels, on {device}"
    )
    g = torch.Generator().manual_seed(config.seed + rank)
    batches = Batches(config, device, g)
    train_images = _on_device(data.train.images, device)
    mix_rng = np.random.default_rng(config.seed + rank)

    # --- model ---
    model = models.build(
        config.arch,
        len(data.labels),
        config.pretrained and config.arch != "simple_cnn",
        config.widths,
        config.seed,
    )
    model = model.to(device, memory_format=batches.memory_format)
    groups = models.layer_groups(model, config.arch)
    norm_ids = models.norm_parameters(model)
    use_bf16 = config.bf16 and device.type == "cuda"

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16)

    forward = torch.compile(model) if config.compile else model
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing, reduction="none")

    # --- what lr_find and every epoch share ---
    n_train = len(data.train)
    batch_size = min(config.batch_size, n_train // world)
    run = _Epochs(
        config=config,
        data=data,
        batches=batches,
        train_images=train_images,
        device=device,
        loss_fn=loss_fn,
        autocast=autocast,
        mix_rng=mix_rng,
        g=g,
        rank=rank,
        world=world,
        batch_size=batch_size,
        # drop_last, as fastai trains
        steps_per_epoch=max(1, n_train // (batch_size * world)),
        show=not quiet and main,
    )

    # --- lr_find (optional): its valley becomes base_lr ---
    found = None
    plan = schedule.phases(config, len(groups))
    if config.lr_find:
        found = _find_base_lr(run, plan, model, forward, groups, norm_ids, say)
        plan = schedule.phases(config, len(groups))

    # --- fine_tune: one cycle per phase, a table row per epoch ---
    history: list[dict] = []
    best, interrupted = _Best(), False
    sizes = _epoch_sizes(config, sum(p.epochs for p in plan))
    # Epochs run, counted on every process: only process 0 keeps the history, and the others
    # must still take each epoch's image size and shuffle.
    index = 0
    try:
        for phase in plan:
            opt, runner = _start_phase(run, phase, model, forward, groups, norm_ids, local)
            say(
                f"{phase.name}: {phase.epochs} epoch(s), peak LRs "
                + ", ".join(f"{lr:.2e}" for lr in phase.lrs)
            )
            for epoch in range(phase.epochs):
                epoch_start = time.time()
                size = sizes[index]
                model.train()
                train_loss = _train_epoch(run, runner, opt, phase, epoch, index, size)
                index += 1
                if not main:
                    continue
                row = _validate_epoch(run, model, phase, epoch, size, train_loss, epoch_start)
                # Keep the best weights before showing the row: a Ctrl-C right after the row
                # appears must still find that epoch's weights.
                best.update(row, model)
                history.append(row)
                if not quiet:
                    _print_row(row, header=epoch == 0)
    except KeyboardInterrupt:
        interrupted = True
        best.restore(model, say)
    runner = opt = None  # the last DDP wrapper: _leave_group frees it before the group goes
    if world > 1 and not interrupted:
        _check_in_sync(model, device, say)
    if not main:
        _leave_group(together=not interrupted)
        return None

    # --- final metrics on the validation split (the model the bundle will hold) ---
    metrics, probs, losses = _final_metrics(run, model)
    if world > 1:
        _leave_group(together=not interrupted)
    model = model.to("cpu", memory_format=torch.contiguous_format).eval()
    return Result(
        config=config,
        model=model,
        labels=data.labels,
        data=data,
        history=history,
        metrics=metrics,
        probs=probs,
        losses=losses,
        lr_find=found,
        interrupted=interrupted,
        schedule=run.lr_log,
        seconds=time.time() - started,
    )
