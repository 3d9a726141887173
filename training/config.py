"""The one flat training config: every knob, its default, and why that default.

The comment after each field is also its `--help` text (read back by `training.cli`),
so there is exactly one place that says what an option means.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = "data"
DEFAULT_CACHE_DIR = ".cache/training"


def project_root() -> Path:
    """The blog template the command runs in: the nearest folder at or above the current one
    that holds mkdocs.yml and models/ (so a notebook in posts/ finds it), else the current one.
    """
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "mkdocs.yml").is_file() and (folder / "models").is_dir():
            return folder
    return cwd


@dataclass
class Config:
    # --- what to train on ---
    recipe: str = "folder"  # the recipe that filled in these values (digits, pets, folder, csv)
    name: str = ""  # the bundle's name and folder under models/; defaults to the recipe's name
    path: str = ""  # the data: a folder of images, a CSV file, or an archive (recipe-specific)
    labels_from: str = "folder"  # where labels come from: folder, regex (file names) or csv
    label_regex: str = r"^(.+)_\d+\.jpg$"  # with labels_from=regex: group 1 of a file-name match
    valid_pct: float = 0.2  # the share of images held out for validation (random, seeded split)
    seed: int = 42  # seeds the split, the weights of new layers and the augmentation
    data_dir: str = DEFAULT_DATA_DIR  # where recipes put downloaded or generated data sets
    cache_dir: str = DEFAULT_CACHE_DIR  # decoded, resized images for later runs; "" for none
    # --- images ---
    size: int = 224  # the training and validation image size (square), in pixels
    resize: str = "squish"  # the validation resize: squish, crop or pad (models/README.md)
    presize: float = 1.25  # training images are stored at size*presize, then randomly cropped
    min_scale: float = 0.75  # RandomResizedCrop: the smallest share of the image area kept
    augment: bool = True  # aug_transforms: flip, rotate, zoom, warp, lighting, per image
    flip: bool = True  # random horizontal flips (turn off for digits and text)
    max_rotate: float = 10.0  # augmentation: the largest rotation, in degrees
    max_zoom: float = 1.1  # augmentation: the largest zoom factor
    max_warp: float = 0.2  # augmentation: the largest perspective warp
    max_lighting: float = 0.2  # augmentation: the largest brightness and contrast change
    p_affine: float = 0.75  # augmentation: the chance of each rotate, zoom and warp
    p_lighting: float = 0.75  # augmentation: the chance of each brightness and contrast change
    # --- model ---
    arch: str = "resnet34"  # a torchvision model (resnet18/34/50, convnext_tiny, ...) or simple_cnn
    pretrained: bool = True  # start from torchvision's ImageNet weights (needs internet once)
    widths: list[int] = field(default_factory=lambda: [32, 64, 128])  # simple_cnn's block widths
    # --- schedule (fastai's fine_tune and fit_one_cycle) ---
    schedule: str = "fine_tune"  # fine_tune (frozen body, then all) or one_cycle (all at once)
    epochs: int = 1  # epochs with the whole network trainable (after freeze_epochs)
    freeze_epochs: int = 1  # fine_tune: epochs training only the head (and norm layers) first
    base_lr: float = 2e-3  # fine_tune's base_lr; the peak learning rate of one_cycle
    lr_mult: float = 100.0  # fine_tune: the body's first group trains at base_lr/2/lr_mult
    pct_start: float = 0.3  # fine_tune's unfrozen cycle: the share of steps warming up
    div: float = 5.0  # fine_tune's unfrozen cycle: it starts at the peak LR / div
    weight_decay: float = 0.01  # AdamW's decoupled weight decay (none on norm and bias weights)
    batch_size: int = 64  # images per step (per GPU with torchrun)
    label_smoothing: float = 0.0  # cross-entropy label smoothing (fastai uses 0.1 when on)
    mixup: float = 0.0  # mixup's Beta(alpha, alpha); 0 turns it off (fastai's default is 0.4)
    progressive: bool = False  # progressive resizing: start small, end at `size`
    lr_find: bool = False  # run the LR finder first, save its plot, train at its valley
    tta: bool = False  # also report test-time-augmentation accuracy (metrics.json)
    # --- speed ---
    device: str = "auto"  # cpu, cuda, cuda:1, mps or auto (the GPU when there is one)
    workers: int = 0  # processes decoding images; 0 uses every CPU core
    channels_last: bool = True  # NHWC memory layout, faster convolutions on GPUs and CPUs
    bf16: bool = True  # bfloat16 autocast on CUDA GPUs (ignored on the CPU)
    compile: bool = False  # torch.compile the model (slow first epoch, faster after)
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    # --- bundle ---
    output: str = ""  # the bundle folder; default models/<name>/
    examples_per_class: int = 2  # validation images copied into the bundle for the demo
    int8: bool = True  # also write model.int8.onnx (static int8, smaller and faster for the web)
    calibration_images: int = 256  # training images that calibrate the int8 model's ranges
    title: str = ""  # the demo's title; defaults to the name
    description: str = ""  # one line shown under the demo's title
    post: str = ""  # the URL of the blog post about this model, if any

    def resolved(self) -> Config:
        """A copy with the derived defaults filled in (name, output, title, folders).

        The default data, cache and models folders are anchored at the project root when
        this package lives in a checkout of the template, so a notebook running in posts/
        writes to the same data/ and models/ as `python -m training` at the root.
        """
        config = dataclasses.replace(self, widths=list(self.widths))
        root = project_root()
        if config.data_dir == DEFAULT_DATA_DIR:
            config.data_dir = str(root / DEFAULT_DATA_DIR)
        if config.cache_dir == DEFAULT_CACHE_DIR:
            config.cache_dir = str(root / DEFAULT_CACHE_DIR)
        config.name = config.name or config.recipe
        # The name becomes a folder, a URL path and a Hugging Face Space name.
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", config.name):
            raise ValueError(
                f"name {config.name!r}: use letters, digits, '.', '_' and '-' "
                "(it becomes the bundle folder and the demo's URL)"
            )
        if config.post and not config.post.startswith(("http://", "https://")):
            raise ValueError(f"post {config.post!r} must be an http(s) URL of the blog post")
        config.output = config.output or str(root / "models" / config.name)
        config.title = config.title or config.name
        return config

    def to_dict(self) -> dict:
        """The config for model.json: paths inside the project are made relative to it, so
        a bundle committed or uploaded to a Space doesn't carry the author's home folder."""
        data = dataclasses.asdict(self)
        root = project_root()
        for key in ("path", "data_dir", "cache_dir", "output"):
            value = data.get(key)
            if value and Path(value).is_absolute():
                try:
                    data[key] = Path(value).resolve().relative_to(root).as_posix()
                except ValueError:
                    data[key] = Path(value).name  # outside the project: keep only the name
        return data


def field_help() -> dict[str, str]:
    """Each field's trailing comment, read from this file's source: the CLI's help texts."""
    source = Path(__file__).read_text()
    helps: dict[str, str] = {}
    in_class, current = False, None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string == "Config" and not in_class:
            in_class = True
        elif in_class and token.type == tokenize.NAME and token.start[1] == 4 and current is None:
            current = token.string
        elif in_class and token.type == tokenize.COMMENT and current and token.start[1] > 4:
            helps[current] = token.string.lstrip("# ").strip()
        if token.type in (tokenize.NEWLINE, tokenize.NL):
            current = None
        if in_class and token.type == tokenize.NAME and token.string == "def":
            break
    names = {f.name for f in dataclasses.fields(Config)}
    return {k: v for k, v in helps.items() if k in names}
