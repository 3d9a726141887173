"""The package boundaries of ../shared/ARCHITECTURE.md, read from every module's imports.

- blog never imports torch, gradio, training or demos: the site builds with the `site` extra;
- demos never imports training: it only reads bundles;
- training never imports demos or blog;
- the Space's runtime (demos/runtime.py, copied into Space folders) imports nothing from this
  repository, and no torch at all;
- everything that writes a bundle lives in training: demos never saves weights or exports ONNX.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "blog": {
        "torch",
        "torchvision",
        "gradio",
        "gradio_client",
        "training",
        "demos",
        "onnxruntime",
        "safetensors",
    },
    "demos": {"training", "blog"},
    "training": {"demos", "blog", "gradio"},
}


def imports(path: Path, *, top_level_only: bool = False) -> dict[str, int]:
    """{top-level package name: first line} of every import in the module (relative imports
    left out: they stay inside the package)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            found.setdefault(name.split(".")[0], node.lineno)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_keep_to_their_boundaries(package):
    assert modules(package), f"no modules found in {package}/"
    broken = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules(package)
        for name, line in imports(path).items()
        if name in FORBIDDEN[package]
    ]
    assert not broken, "\n".join(broken)


def test_the_space_runtime_is_self_contained():
    runtime = ROOT / "demos" / "runtime.py"
    # The standard library, and what a Space's requirements.txt installs: no torch (the
    # PyTorch backend is demos/torch_backend.py, which Spaces don't get).
    allowed = set(sys.stdlib_module_names) | {"numpy", "PIL", "onnxruntime", "gradio", "spaces"}
    outside = {name: line for name, line in imports(runtime).items() if name not in allowed}
    assert not outside, f"demos/runtime.py must stay self-contained: {outside}"
    # gradio loads on first use, so `import demos.runtime` stays cheap.
    assert "gradio" not in imports(runtime, top_level_only=True)


def test_the_checker_sees_imports(tmp_path):
    """The checks above can fail: a module importing torch inside a function is caught."""
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from torch import nn\n    import demos.runtime\n")
    assert imports(module) == {"os": 1, "torch": 4, "demos": 5}
    assert imports(module, top_level_only=True) == {"os": 1}


# What writing a bundle calls: safetensors' savers and torch's ONNX exporter.
BUNDLE_WRITERS = {"save_file", "save_model", "export"}


def writer_calls(path: Path) -> list[str]:
    """`name:line` of each call to a bundle writer: save_file(...), safetensors.torch.save_file
    (...), torch.onnx.export(...) (an `export` attribute of something named onnx)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in BUNDLE_WRITERS - {"export"}:
            found.append(f"{func.id}:{node.lineno}")
        elif isinstance(func, ast.Attribute) and func.attr in BUNDLE_WRITERS:
            owner = func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if func.attr != "export" or name == "onnx":
                found.append(f"{func.attr}:{node.lineno}")
    return found


def test_only_training_writes_bundles(tmp_path):
    writers = {
        str(path.relative_to(ROOT)): calls
        for path in modules("demos")
        if (calls := writer_calls(path))
    }
    assert not writers, f"demos must only read bundles; these write weights or ONNX: {writers}"
    # The check sees the calls training makes.
    assert writer_calls(ROOT / "training" / "bundle.py")
    module = tmp_path / "m.py"
    module.write_text(
        "import torch\nfrom safetensors.torch import save_file\n"
        "save_file({}, 'a')\ntorch.onnx.export(m, x, 'b')\nresult.export()\n"
    )
    assert writer_calls(module) == ["save_file:3", "export:4"]
