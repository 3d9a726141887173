"""Posts that link their demos: the card, the embed, the model report and the Demos page.

The bundles here are written by hand (model.json + report images): the blog reads only those
files, and tests/e2e checks the same path with a bundle the training package really exported.
"""

import base64
import json
import re

import pytest
from blog_helpers import PNG_1PX

pytestmark = pytest.mark.slow


def bundle(site, name="digits", accuracy=0.9861):
    folder = site.root / "models" / name
    (folder / "report").mkdir(parents=True)
    (folder / "examples").mkdir()
    png = base64.b64decode(PNG_1PX)
    for file in ("confusion.png", "top_losses.png"):
        (folder / "report" / file).write_bytes(png)
    (folder / "examples" / "3_0.png").write_bytes(png)
    (folder / "model.json").write_text(
        json.dumps(
            {
                "format": "model-bundle/1",
                "name": name,
                "task": "image-classification",
                "title": "Handwritten digits",
                "description": "A small CNN.",
                "labels": [str(i) for i in range(10)],
                "metrics": {
                    "accuracy": accuracy,
                    "error_rate": 1 - accuracy,
                    "valid_loss": 0.05,
                    "n_valid": 360,
                },
                "examples": [{"file": "examples/3_0.png", "label": "3"}],
            }
        ),
        "utf-8",
    )
    return folder


def post(site, front="demo: digits", body="Text."):
    (site.posts / "2026-02-01-digits.md").write_text(
        f"---\ntitle: Digits\n{front}\n---\n\n{body}\n", "utf-8"
    )


def article(site):
    page = site.page("2026/02/01/digits")
    return page[page.index("<article") : page.index("</article>")]


def test_card_links_the_deployed_space(site):
    bundle(site)
    (site.root / "demos.json").write_text(
        json.dumps(
            {"digits": {"space": "jane/digits", "url": "https://huggingface.co/spaces/jane/digits"}}
        )
    )
    post(site)
    site.build()
    html = article(site)
    assert re.search(
        r'<div class="demo-card">.*Try the live demo.*'
        r'href="https://huggingface.co/spaces/jane/digits"',
        html,
        re.S,
    )
    assert "98.6% accuracy" in html


def test_card_points_at_the_in_browser_page_and_the_local_server_in_preview(site):
    (bundle(site) / "model.onnx").write_bytes(b"weights")  # only bundles with weights are served
    post(site, front="demo: digits\ndemo_embed: true")
    site.build(env={"DEMOS_URL": "http://127.0.0.1:7860"})
    html = article(site)
    # First the page that runs the model in the browser, then the Gradio app.
    assert re.search(
        r'href="../../../../demos/digits/"[^>]*>Handwritten digits</a>.*'
        r'href="http://127.0.0.1:7860/digits/"[^>]*>Run it on the local demo server',
        html,
        re.S,
    )
    assert '<iframe class="demo-embed" src="../../../../demos/digits/"' in html
    assert (site.public / "demos" / "digits" / "model.onnx").read_bytes() == b"weights"


def test_without_onnx_weights_the_card_keeps_the_space_and_the_demos_page_says_why(site):
    bundle(site)
    (site.root / "demos.json").write_text(json.dumps({"digits": {"space": "jane/digits"}}))
    post(site, front="demo: digits\ndemo_embed: true")
    site.build()
    assert 'href="https://huggingface.co/spaces/jane/digits"' in article(site)
    assert not (site.public / "demos" / "digits").exists()
    assert "No in-browser demo" in site.page("demos")


def test_embed_uses_the_app_host_deploy_recorded(site):
    # deploy asks the Hub for the host and records it; the blog never derives one itself
    # (for this name the two old derivations disagreed: my--digits or my-digits). Whatever
    # the Hub answered is what the page embeds.
    (site.root / "demos.json").write_text(
        json.dumps(
            {
                "digits": {
                    "space": "Jane/My_-Digits_v2.1",
                    "url": "https://huggingface.co/spaces/Jane/My_-Digits_v2.1",
                    "app_url": "https://jane-my-digits-v2-1-7f3a.hf.space",
                }
            }
        )
    )
    post(site, front="demo: digits\ndemo_embed: true")
    site.build()
    assert '<iframe class="demo-embed" src="https://jane-my-digits-v2-1-7f3a.hf.space"' in article(
        site
    )


def test_embed_without_a_recorded_host_links_the_space_page(site):
    # A demos.json written before deploy recorded app_url: the card links the Space's page,
    # with no guessed host and no iframe of the Hub's page.
    (site.root / "demos.json").write_text(json.dumps({"digits": {"space": "Jane/My_-Digits_v2.1"}}))
    post(site, front="demo: digits\ndemo_embed: true")
    site.build()
    html = article(site)
    assert 'href="https://huggingface.co/spaces/Jane/My_-Digits_v2.1"' in html
    assert "<iframe" not in html and ".hf.space" not in html


def test_not_deployed_yet_says_how(site):
    bundle(site)
    post(site)
    site.build()
    assert "python -m demos deploy digits --space OWNER/digits" in article(site)


def test_unknown_demo_fails_the_build(site):
    bundle(site, name="bears")
    post(site, front="demo: digitz")
    result = site.build(check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "2026-02-01-digits.md" in out and "demo: digitz" in out
    assert "Known demos: bears" in out


def test_model_report_directive(site):
    bundle(site)
    post(site, front="", body='Intro.\n\n{{ model_report("digits") }}\n\nOutro.')
    site.build()
    html = article(site)
    assert "model_report" not in html
    assert "<td>Accuracy</td>" in html and "<td>98.61%</td>" in html
    assert "<td>Validation images</td>" in html and "<td>360</td>" in html
    for alt in ("Confusion matrix", "Top losses"):
        [src] = re.findall(rf'<img alt="{alt}" src="([^"]+)"', html)
        assert (site.public / "2026/02/01/digits" / src).resolve().is_file()


def test_model_report_of_a_missing_bundle_fails(site):
    post(site, front="", body='{{ model_report("nope") }}')
    result = site.build(check=False)
    assert result.returncode != 0
    assert 'model_report("nope")' in result.stdout + result.stderr


def test_demos_page(site):
    bundle(site)
    site.build()
    page = site.page("demos")
    assert "Handwritten digits" in page and "98.6% accuracy" in page
    assert "image-classification" in page
    [src] = re.findall(r'<img alt="An example for Handwritten digits"[^>]*src="([^"]+)"', page)
    assert (site.public / "demos" / src).resolve().is_file()


def test_weightless_bundle_links_the_space_even_in_preview(site):
    # A clone has the committed model.json and report but not the weights: the local demo
    # server skips it, so the card must not point there.
    bundle(site)
    (site.root / "demos.json").write_text(json.dumps({"digits": {"space": "jane/digits"}}))
    post(site)
    site.build(env={"DEMOS_URL": "http://127.0.0.1:7860"})
    html = article(site)
    assert 'href="https://huggingface.co/spaces/jane/digits"' in html
    assert "127.0.0.1:7860" not in html


def test_model_report_in_a_code_fence_is_left_alone(site):
    post(site, front="", body='```markdown\n{{ model_report("anything") }}\n```')
    site.build()
    assert "model_report(&quot;anything&quot;)" in article(
        site
    ) or 'model_report("anything")' in article(site)


def test_report_shows_the_int8_accuracy_beside_the_full_one(site):
    folder = bundle(site, accuracy=0.9861)
    meta = json.loads((folder / "model.json").read_text())
    meta["int8"] = {"file": "model.int8.onnx", "accuracy": 0.9833, "preferred": True}
    (folder / "model.json").write_text(json.dumps(meta))
    post(site, body='{{ model_report("digits") }}')
    site.build()
    html = article(site)
    assert re.search(r"Accuracy</td>\s*<td>98.61%", html)
    assert re.search(r"Accuracy of the int8 model[^<]*</td>\s*<td>98.33%", html)
