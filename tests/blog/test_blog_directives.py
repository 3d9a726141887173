"""Cell directives, in both dialects and as tags, on notebooks built in memory."""

import nbformat
import pytest
from blog_helpers import new_code_cell, new_output, notebook

from blog.preprocessors import DirectivePreprocessor
from blog.preprocessors.directives import read_directives


def run(cell):
    nb, _ = DirectivePreprocessor().preprocess(notebook(cell, header=None), {})
    return nb.cells


@pytest.mark.parametrize(
    "source",
    ["#hide\nx = 1", "# hide\nx = 1", "#|hide\nx = 1", "#| include: false\nx = 1", "x = 1\n#hide"],
)
def test_dropped_cells(source):
    assert run(new_code_cell(source)) == []


def test_remove_cell_tag_drops_markdown_cells_too():
    nb = notebook(
        nbformat.v4.new_markdown_cell("secret", metadata={"tags": ["remove-cell"]}), header=None
    )
    nb, _ = DirectivePreprocessor().preprocess(nb, {})
    assert nb.cells == []


@pytest.mark.parametrize(
    ("source", "tags", "expected"),
    [
        ("#hide_input\nprint(1)", [], {"input": "hide", "output": "show"}),
        ("#| echo: false\nprint(1)", [], {"input": "hide", "output": "show"}),
        ("print(1)", ["remove-input"], {"input": "hide", "output": "show"}),
        ("#hide_output\nprint(1)", [], {"input": "show", "output": "hide"}),
        ("#| output: false\nprint(1)", [], {"input": "show", "output": "hide"}),
        ("print(1)", ["remove-output"], {"input": "show", "output": "hide"}),
        ("#collapse-hide\nprint(1)", [], {"input": "fold", "output": "show"}),
        ("#collapse_hide\nprint(1)", [], {"input": "fold", "output": "show"}),
        ("#collapse\nprint(1)", [], {"input": "fold", "output": "show"}),
        ("#| code-fold: true\nprint(1)", [], {"input": "fold", "output": "show"}),
        ("print(1)", ["hide-input"], {"input": "fold", "output": "show"}),
        ("#collapse-show\nprint(1)", [], {"input": "fold-open", "output": "show"}),
        ("#| code-fold: show\nprint(1)", [], {"input": "fold-open", "output": "show"}),
        ("#collapse-output\nprint(1)", [], {"input": "show", "output": "fold"}),
        ("print(1)", ["hide-output"], {"input": "show", "output": "fold"}),
        ("#hide_input\n#collapse-hide\nprint(1)", [], {"input": "hide", "output": "show"}),
    ],
)
def test_marks(source, tags, expected):
    [cell] = run(new_code_cell(source, metadata={"tags": tags}))
    assert cell.metadata["blog"] == expected
    assert cell.source == "print(1)"  # the directive line itself never shows


def test_quarto_options_only_at_the_top_and_all_stripped():
    effects, source = read_directives(
        "#| label: fig-1\n#| fig-cap: A plot\nx = 1\n#| echo: false", []
    )
    assert effects == []  # `#| echo` after code is a comment, not an option
    assert source == "x = 1\n#| echo: false"


def test_ordinary_comments_stay():
    [cell] = run(new_code_cell("# hidden layer size\nn = 3"))
    assert cell.source == "# hidden layer size\nn = 3"


def test_outputs_are_kept_for_hidden_input():
    [cell] = run(
        new_code_cell(
            "#hide_input\nprint(1)", outputs=[new_output("stream", name="stdout", text="1\n")]
        )
    )
    assert cell.outputs[0]["text"] == "1\n"
