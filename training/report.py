"""The report folder: metrics.json and the three plots a blog post embeds."""

from __future__ import annotations

import json
from pathlib import Path

# matplotlib's object-oriented Figure draws straight to a file, with no pyplot and no global
# backend switch: `import training` in a notebook leaves its inline figures alone.
import numpy as np
import torch
from matplotlib.figure import Figure

from .images import open_rgb


def confusion(targets: torch.Tensor, preds: torch.Tensor, n: int) -> np.ndarray:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (targets.numpy(), preds.numpy()), 1)
    return matrix  # rows: actual, columns: predicted


def metrics_json(result) -> dict:
    """Everything measured: summary metrics, per-class precision/recall, history, skipped."""
    labels = result.labels
    targets = result.data.valid.targets
    preds = result.probs.argmax(1)
    matrix = confusion(targets, preds, len(labels))
    per_class = {}
    for i, label in enumerate(labels):
        true_pos = int(matrix[i, i])
        predicted, actual = int(matrix[:, i].sum()), int(matrix[i].sum())
        precision = true_pos / predicted if predicted else 0.0
        recall = true_pos / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": actual}
    out = {
        **result.metrics,
        "n_train": len(result.data.train),
        "per_class": per_class,
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "history": result.history,
        "interrupted": result.interrupted,
        "train_seconds": round(result.seconds, 2),
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.data.skipped],
    }
    if result.lr_find:
        out["lr_find"] = {"suggestion": result.lr_find["suggestion"]}
    return out


def plot_confusion(matrix: np.ndarray, labels: list[str], path: Path) -> None:
    n = len(labels)
    side = min(max(4.0, 0.35 * n + 2), 16)
    fig = Figure(figsize=(side, side), dpi=100)
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=90 if n > 6 else 0)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Actual")
    ax.set_title("Confusion matrix")
    if n <= 40:
        top = matrix.max() or 1
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if matrix[i, j] > top / 2 else "black",
                )
    fig.tight_layout()
    fig.savefig(path)


def plot_top_losses(result, path: Path, k: int = 9) -> None:
    """The k validation images the model got most wrong: predicted/actual/loss/probability."""
    losses = result.losses
    order = torch.argsort(losses, descending=True)[:k].tolist()
    cols = 3
    rows = max(1, (len(order) + cols - 1) // cols)
    fig = Figure(figsize=(cols * 3.2, rows * 3.4), dpi=100)
    axes = fig.subplots(rows, cols)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, order, strict=False):
        pred = int(result.probs[i].argmax())
        actual = int(result.data.valid.targets[i])
        ax.imshow(open_rgb(result.data.valid.paths[i]))
        ax.set_title(
            f"{result.labels[pred]}/{result.labels[actual]}\n"
            f"{float(losses[i]):.2f} / {float(result.probs[i, pred]):.2f}",
            fontsize=9,
        )
    fig.suptitle("Prediction/Actual/Loss/Probability")
    fig.tight_layout()
    fig.savefig(path)


def plot_lr_find(found: dict, path: Path) -> None:
    lrs, losses = found["lrs"], found["losses"]
    end = max(len(lrs) - 5, 1)  # fastai hides the last points, where the loss explodes
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    ax.plot(lrs[:end], losses[:end])
    ax.set_xscale("log")
    ax.set_xlabel("Learning rate")
    ax.set_ylabel("Loss (smoothed)")
    suggestion = found["suggestion"]
    near = int(np.argmin(np.abs(np.log(np.asarray(lrs)) - np.log(suggestion))))
    ax.plot(
        [suggestion], [losses[near]], "o", color="tab:orange", label=f"valley: {suggestion:.2e}"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def write(result, folder: Path, int8: dict | None = None) -> dict:
    """Write report/ into `folder`; returns the metrics.json content. `int8` is model.json's
    entry for model.int8.onnx: its accuracy is reported beside the fp32 one."""
    folder.mkdir(parents=True, exist_ok=True)
    content = metrics_json(result)
    if int8:
        content["int8"] = {key: int8[key] for key in ("accuracy", "agreement", "preferred")}
    (folder / "metrics.json").write_text(json.dumps(content, indent=2) + "\n")
    matrix = np.asarray(content["confusion"]["matrix"])
    plot_confusion(matrix, result.labels, folder / "confusion.png")
    plot_top_losses(result, folder / "top_losses.png")
    if result.lr_find:
        plot_lr_find(result.lr_find, folder / "lr_find.png")
    return content
