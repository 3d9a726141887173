"""Output handling and callouts on notebooks built in memory."""

import pytest
from blog_helpers import PNG_1PX, new_code_cell, new_markdown_cell, new_output, notebook

from blog import PostError
from blog.callouts import convert_callouts
from blog.preprocessors import OutputPreprocessor


def outputs_of(*outputs, **kw):
    nb = notebook(new_code_cell("x", outputs=list(outputs)), header=None)
    nb, _ = OutputPreprocessor(**kw).preprocess(nb, {})
    return nb.cells[0].outputs


def test_stderr_dropped_unless_asked():
    err = new_output("stream", name="stderr", text="Warning: slow\n")
    out = new_output("stream", name="stdout", text="done\n")
    assert [o["name"] for o in outputs_of(err, out)] == ["stdout"]
    assert [o["name"] for o in outputs_of(err, out, show_stderr=True)] == ["stderr", "stdout"]


def test_ansi_codes_removed_from_streams_results_and_tracebacks():
    stream = new_output("stream", name="stdout", text="\x1b[31mred\x1b[0m\n")
    result = new_output(
        "execute_result", data={"text/plain": "\x1b[1mbold\x1b[0m"}, execution_count=1
    )
    error = new_output("error", ename="E", evalue="v", traceback=["\x1b[0;31mE\x1b[0m: v"])
    stream, result, error = outputs_of(stream, result, error)
    assert stream["text"] == "red\n"
    assert result["data"]["text/plain"] == "bold"
    assert error["traceback"] == ["E: v"]


def test_widgets_fall_back_to_text():
    widget = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {
                "model_id": "abc",
                "version_major": 2,
                "version_minor": 0,
            },
            "text/plain": "IntSlider(value=3)",
        },
    )
    [out] = outputs_of(widget)
    assert out["data"] == {"text/plain": "IntSlider(value=3)"}


def test_widget_without_fallback_is_dropped():
    widget = new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {
                "model_id": "abc",
                "version_major": 2,
                "version_minor": 0,
            }
        },
    )
    assert outputs_of(widget) == []


def test_output_over_the_limit_names_cell_and_fix(tmp_path):
    big = new_output("display_data", data={"image/png": PNG_1PX * 2000})
    nb = notebook(new_markdown_cell("intro"), new_code_cell("plot()", outputs=[big]), header=None)
    for i, cell in enumerate(nb.cells, 1):
        cell.metadata["blog_cell"] = i
    with pytest.raises(PostError) as info:
        OutputPreprocessor(max_output_kb=64, path="posts/x.ipynb").preprocess(nb, {})
    message = str(info.value)
    assert "x.ipynb, cell 2" in message
    assert "limit" in message and "max_output_kb" in message


@pytest.mark.parametrize(
    ("kind", "admonition"),
    [
        ("Note", "!!! note"),
        ("Tip", "!!! tip"),
        ("Warning", "!!! warning"),
        ("Important", '!!! danger "Important"'),
    ],
)
def test_callouts(kind, admonition):
    out = convert_callouts(f"Before.\n\n> {kind}: Mind the gap.\n> Second line.\n\nAfter.")
    assert f"{admonition}\n\n    Mind the gap.\n    Second line.\n" in out
    assert out.startswith("Before.") and out.rstrip().endswith("After.")
    assert f"> {kind}:" not in out


def test_plain_quotes_and_code_fences_are_left_alone():
    text = "> Just a quote.\n\n```markdown\n> Note: this shows the syntax\n```"
    assert convert_callouts(text) == text


@pytest.mark.parametrize(
    "url", ["https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3"]
)
def test_youtube(url):
    out = convert_callouts(f"> youtube: {url}")
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in out


def test_twitter():
    out = convert_callouts("> twitter: https://twitter.com/jeremyphoward/status/1")
    assert 'class="twitter-tweet"' in out and "status/1" in out


def test_stdout_split_by_stderr_joins_into_one_block(tmp_path):
    from blog_helpers import write_nb

    from blog import convert

    outputs = [
        new_output("stream", name="stdout", text="epoch 0\n"),
        new_output("stream", name="stderr", text="progress 50%\rprogress 100%\n"),
        new_output("stream", name="stdout", text="epoch 1\n"),
    ]
    post = convert(
        write_nb(tmp_path / "2026-01-01-x.ipynb", notebook(new_code_cell("fit()", outputs=outputs)))
    )
    assert "```text { .nb-output .no-copy }\nepoch 0\nepoch 1\n```" in post.markdown
    assert "progress" not in post.markdown
