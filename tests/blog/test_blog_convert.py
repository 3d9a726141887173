"""blog.convert on real files in tmp_path: front matter styles, outputs, and every bad input."""

import datetime as dt
import json

import nbformat
import pytest
from blog_helpers import PNG_1PX, new_code_cell, new_markdown_cell, new_output, notebook, write_nb

from blog import PostError, Settings, convert


def test_fastpages_header(tmp_path):
    header = (
        '# "Is it a bear?"\n> "Training a classifier"\n\n- toc: false\n- badges: true\n'
        "- categories: [fastai, vision]\n- author: Jane Doe\n- sticky_rank: 1"
    )
    path = write_nb(tmp_path / "2026-03-04-bears.ipynb", notebook(header=header))
    post = convert(path)
    assert post.front.title == "Is it a bear?"
    assert post.front.description == "Training a classifier"
    assert post.front.date == dt.date(2026, 3, 4)
    assert post.front.slug == "bears"
    assert post.front.categories == ["fastai", "vision"]
    assert post.front.pin is True and post.front.toc is False
    meta = post.markdown.split("---\n")[1]
    assert "hide:\n- toc" in meta and "pin: true" in meta
    assert "# Is it a bear?" in post.markdown
    assert "By Jane Doe" in post.markdown


def test_quarto_raw_cell(tmp_path):
    nb = notebook(new_markdown_cell("Body text."), header=None)
    nb.cells.insert(
        0,
        nbformat.v4.new_raw_cell(
            "---\ntitle: Quarto post\ndescription: From Quarto\ndate: 2025-12-01\n"
            "categories: [quarto]\nformat: html\njupyter: python3\n---"
        ),
    )
    post = convert(write_nb(tmp_path / "quarto-post.ipynb", nb))
    assert post.front.title == "Quarto post"
    assert post.front.date == dt.date(2025, 12, 1)  # no date in the name: the YAML has it
    assert post.front.slug == "quarto-post"
    assert "Body text." in post.markdown and "format: html" not in post.markdown


def test_markdown_post(tmp_path):
    path = tmp_path / "2026-01-05-notes.md"
    path.write_text(
        "---\ntitle: Notes\ntags: [a]\ndraft: true\n---\n\n# Notes\n\nHello $x_1$.\n\n"
        "> Tip: use a GPU.\n",
        "utf-8",
    )
    post = convert(path)
    assert post.front.draft and post.front.tags == ["a"]
    assert post.markdown.count("# Notes") == 1  # the repeated title is not doubled
    assert "!!! tip" in post.markdown
    assert "<!-- more -->" in post.markdown


def test_front_matter_date_overrides_the_name(tmp_path):
    path = tmp_path / "2026-01-05-notes.md"
    path.write_text("---\ntitle: Notes\ndate: 2024-02-29\nslug: other\n---\nx\n", "utf-8")
    post = convert(path)
    assert (post.front.date, post.front.slug) == (dt.date(2024, 2, 29), "other")


def test_images_become_files_not_base64(tmp_path):
    cell = new_code_cell(
        "plot()",
        outputs=[new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})],
    )
    post = convert(write_nb(tmp_path / "2026-01-01-fig.ipynb", notebook(cell)))
    pngs = [name for name in post.assets if name.endswith(".png")]
    assert len(pngs) == 1 and post.assets[pngs[0]].startswith(b"\x89PNG")
    assert f"]({pngs[0]})" in post.markdown
    assert "base64" not in post.markdown
    assert post.front.image == pngs[0]  # the first figure stands for the post


def test_hidden_cells_leave_no_figures(tmp_path):
    cell = new_code_cell(
        "#hide\nplot()", outputs=[new_output("display_data", data={"image/png": PNG_1PX})]
    )
    post = convert(write_nb(tmp_path / "2026-01-01-fig.ipynb", notebook(cell)))
    assert not [n for n in post.assets if n.endswith(".png")]


def test_html_and_text_outputs(tmp_path):
    html = new_output(
        "execute_result",
        execution_count=1,
        data={"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "df"},
    )
    err = new_output(
        "error", ename="ValueError", evalue="bad", traceback=["\x1b[31mValueError\x1b[0m: bad"]
    )
    post = convert(
        write_nb(
            tmp_path / "2026-01-01-t.ipynb",
            notebook(new_code_cell("df", outputs=[html]), new_code_cell("boom()", outputs=[err])),
        )
    )
    assert "<table><tr><td>1</td></tr></table>" in post.markdown
    assert "```pytb { .nb-output .nb-error .no-copy }\nValueError: bad\n```" in post.markdown


def test_attachments_kept(tmp_path):
    cell = new_markdown_cell(
        "![cat](attachment:cat.png)", attachments={"cat.png": {"image/png": PNG_1PX}}
    )
    post = convert(write_nb(tmp_path / "2026-01-01-att.ipynb", notebook(cell)))
    [name] = [n for n in post.assets if n.endswith("cat.png")]
    assert f"![cat]({name})" in post.markdown


def test_badges_from_settings_and_opt_out(tmp_path):
    path = write_nb(tmp_path / "2026-01-01-b.ipynb", notebook())
    settings = Settings(repo="jane/blog", branch="main")
    md = convert(path, settings).markdown
    assert "https://colab.research.google.com/github/jane/blog/blob/main/posts/" in md
    assert "https://github.com/jane/blog/blob/main/posts/2026-01-01-b.ipynb" in md
    assert "mybinder.org/v2/gh/jane/blog/main" in md
    off = write_nb(tmp_path / "2026-01-02-c.ipynb", notebook(header='# "T"\n- badges: false'))
    assert "colab" not in convert(off, settings).markdown


def test_input_is_not_mutated(tmp_path):
    path = write_nb(tmp_path / "2026-01-01-x.ipynb", notebook(new_code_cell("#hide\nx")))
    before = path.read_bytes()
    convert(path)
    assert path.read_bytes() == before


# --- bad input: each names the file (and cell) and the fix -------------------------------


def expect_error(path, *fragments):
    with pytest.raises(PostError) as info:
        convert(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_broken_json(tmp_path):
    path = tmp_path / "2026-01-01-broken.ipynb"
    path.write_text('{"cells": [', "utf-8")
    expect_error(path, "not valid JSON", "line 1")


def test_notebook_that_breaks_the_schema(tmp_path):
    nb = json.loads(nbformat.writes(notebook(new_code_cell("print(1)"))))
    nb["cells"][1]["execution_count"] = "one"
    path = tmp_path / "2026-01-01-schema.ipynb"
    path.write_text(json.dumps(nb), "utf-8")
    expect_error(
        path,
        "is not a valid notebook at cells / 1 / execution_count",
        "'one' is not of type",
        "Open it in Jupyter and save it again.",
    )
    # Output data of the wrong type is caught where it is, not published as it is.
    nb["cells"][1]["execution_count"] = 1
    nb["cells"][1]["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {"text/markdown": {"a": 1}}}
    ]
    path.write_text(json.dumps(nb), "utf-8")
    expect_error(path, "is not a valid notebook at cells / 1 / outputs / 0")


@pytest.mark.parametrize(
    "breakage", ["metadata list", "cell metadata list", "source ints", "minor string"]
)
def test_notebook_shapes_the_reader_trips_over(tmp_path, breakage):
    nb = json.loads(nbformat.writes(notebook(new_code_cell("print(1)"))))
    if breakage == "metadata list":
        nb["metadata"] = []
    elif breakage == "cell metadata list":
        nb["cells"][1]["metadata"] = []
    elif breakage == "source ints":
        nb["cells"][1]["source"] = [1, 2]
    else:
        nb["nbformat_minor"] = "five"
    path = tmp_path / "2026-01-01-shape.ipynb"
    path.write_text(json.dumps(nb), "utf-8")
    expect_error(path, "is not a valid notebook", "Open it in Jupyter and save it again.")


def test_unsupported_nbformat(tmp_path):
    path = tmp_path / "2026-01-01-old.ipynb"
    path.write_text(json.dumps({"nbformat": 2, "cells": [], "metadata": {}}), "utf-8")
    expect_error(path, "nbformat 2")


def test_bad_date_in_name(tmp_path):
    path = write_nb(tmp_path / "2026-02-30-nope.ipynb", notebook())
    expect_error(path, "2026-02-30", "not a real date", "Rename")


def test_bad_date_in_front_matter(tmp_path):
    path = tmp_path / "2026-01-01-x.md"
    path.write_text("---\ntitle: X\ndate: last tuesday\n---\n", "utf-8")
    expect_error(path, "last tuesday", "YYYY-MM-DD")


def test_missing_title(tmp_path):
    # A notebook without front matter is titled by its file name (see test_blog_dialects);
    # front matter with an empty title is a mistake to name.
    nb = notebook(new_code_cell("x = 1"), header=None)
    nb.cells.insert(0, nbformat.v4.new_raw_cell('---\ntitle: ""\n---'))
    path = write_nb(tmp_path / "2026-01-01-x.ipynb", nb)
    expect_error(path, "no title", '# "My Title"')


def test_unknown_key_is_noted_with_did_you_mean(tmp_path):
    # Jekyll and Quarto ignore keys they don't know, so a migrated post must build; the note
    # (logged by the build, printed by `blog check`) still catches a typo.
    path = write_nb(
        tmp_path / "2026-01-01-x.ipynb",
        notebook(header='# "T"\n- catagories: [a]\n- bg-image: x.png'),
    )
    post = convert(path)
    assert post.front.categories == []
    assert post.front.notes == [
        "front-matter key `catagories` is not one this site uses (did you mean `categories`?); "
        "it is ignored.",
        "front-matter key `bg-image` is not one this site uses (did you mean `image`?); "
        "it is ignored.",
    ]


def test_non_utf8(tmp_path):
    path = tmp_path / "2026-01-01-x.md"
    path.write_bytes("---\ntitle: Café\n---\n".encode("latin-1"))
    expect_error(path, "not UTF-8", "Save it as UTF-8")


def test_bad_yaml(tmp_path):
    path = tmp_path / "2026-01-01-x.md"
    path.write_text("---\ntitle: a: b\n---\n", "utf-8")
    expect_error(path, "not valid YAML")


def test_output_too_large(tmp_path):
    big = new_output("stream", name="stdout", text="x" * 3_000_000)
    path = write_nb(
        tmp_path / "2026-01-01-x.ipynb",
        notebook(new_markdown_cell("a"), new_code_cell("print()", outputs=[big])),
    )
    expect_error(path, "cell 3", "limit")
