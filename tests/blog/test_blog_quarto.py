"""blog.quarto: Quarto's fenced divs, call-outs, shortcodes and executable cells, checked as
Markdown text and as the HTML that Python-Markdown makes of it with the site's extensions."""

import re
import textwrap
from pathlib import Path

import markdown
import pytest

from blog.errors import PostError, PostErrors
from blog.quarto import qmd_code_cells, render_quarto

EXTENSIONS = [
    "admonition",
    "pymdownx.details",
    "md_in_html",
    "attr_list",
    "pymdownx.superfences",
    "pymdownx.tabbed",
]


def md(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def render(text: str, tmp_path, **kwargs) -> str:
    return render_quarto(md(text), tmp_path / "post.qmd", **kwargs)


def to_html(text: str) -> str:
    """The page as the site renders it (mkdocs.yml's extensions, tabs in Material's style)."""
    return markdown.markdown(
        text,
        extensions=EXTENSIONS,
        extension_configs={"pymdownx.tabbed": {"alternate_style": True}},
    )


# --- text that is not Quarto's comes back as it is -----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain *text*.\n",
        "No newline at the end",
        "Windows\r\nline ends\r\n",
        "Trailing spaces  \n\n\n> Note: a fastpages call-out\n",
        "A slice a[::2] and {{ jinja }}\n",
    ],
)
def test_text_without_quarto_is_unchanged(tmp_path, text):
    assert render_quarto(text, tmp_path / "post.md") == text


def test_code_is_left_alone(tmp_path):
    text = md("""
        ```markdown
        ::: {.callout-note}
        {{< video https://youtu.be/abc >}}
        :::
        ```

        ~~~~
        ```
        ::: {.callout-tip}
        ```
        {{< meta title >}}
        ~~~~

        - A list item:

            ```
            ::::: {.columns}
            {{< foo >}}
            ```

        Inline `{{< var version >}}` and ``::: {.x}`` stay code.

        Indented code:

            ::: {.callout-warning}
            {{< kbd Ctrl-C >}}
            :::
        """)
    assert render_quarto(text, tmp_path / "post.qmd") == text


# --- call-outs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("note", "!!! note"),
        ("tip", "!!! tip"),
        ("warning", "!!! warning"),
        ("caution", "!!! caution"),
        ("important", '!!! danger "Important"'),
    ],
)
def test_callout_types(tmp_path, kind, header):
    out = render(f"::: {{.callout-{kind}}}\nSome *text*.\n:::\n", tmp_path)
    assert out == f"{header}\n\n    Some *text*.\n"


def test_callout_heading_is_the_title(tmp_path):
    out = render(
        """
        Before.

        ::: {.callout-tip}
        ## Tip with **bold** title {#tip-id .unnumbered}

        The body.

        More body.
        :::

        After.
        """,
        tmp_path,
    )
    assert out == md("""
        Before.

        !!! tip "Tip with **bold** title"

            The body.

            More body.

        After.
        """)


def test_callout_title_attribute(tmp_path):
    out = render(
        """
        ::: {.callout-important #imp title="Read this" icon=false appearance="simple"}
        ## A heading that stays

        Body.
        :::
        """,
        tmp_path,
    )
    assert out.startswith('!!! danger "Read this"\n\n    ## A heading that stays\n')


def test_callout_title_with_quotes(tmp_path):
    out = render('::: {.callout-note title="Say \\"hi\\""}\nx\n:::\n', tmp_path)
    assert out.startswith('!!! note "Say "hi""')
    assert '<p class="admonition-title">Say "hi"</p>' in to_html(out)


@pytest.mark.parametrize(
    ("collapse", "marker"),
    [
        ('collapse="true"', "???"),
        ("collapse=true", "???"),
        ('collapse="false"', "???+"),
        ("collapse=false", "???+"),
    ],
)
def test_callout_collapse(tmp_path, collapse, marker):
    out = render(f"::: {{.callout-note {collapse}}}\n## Details\nHidden.\n:::\n", tmp_path)
    assert out == f'{marker} note "Details"\n\n    Hidden.\n'


def test_callout_class_forms(tmp_path):
    bare = render("::: callout-warning\nCareful.\n:::\n", tmp_path)
    colons = render(":::: {.callout-warning} ::::\nCareful.\n::::\n", tmp_path)
    assert bare == colons == "!!! warning\n\n    Careful.\n"


def test_nested_divs_close_the_innermost(tmp_path):
    # As in pandoc, any fence of 3+ colons closes the innermost open div.
    out = render(
        """
        :::: {.callout-note}
        Outer.

        ::: {.callout-tip}
        Inner.
        :::

        ::: {.column-margin}
        Aside.
        ::::

        Still outer.
        :::
        """,
        tmp_path,
    )
    assert out == md("""
        !!! note

            Outer.

            !!! tip

                Inner.

            <div class="column-margin">

            Aside.

            </div>

            Still outer.
        """)
    page = to_html(out)
    assert page.count('<div class="admonition') == 2 and ":::" not in page
    # Indented, the div is plain HTML (md_in_html skips it), its content still Markdown.
    assert '<div class="column-margin">\n<p>Aside.</p>\n</div>\n<p>Still outer.</p>' in page


def test_callout_in_a_list(tmp_path):
    out = render(
        """
        1. First step.

            ::: {.callout-tip}
            ## Shortcut
            Press the button.
            :::

        2. Second step.
        """,
        tmp_path,
    )
    assert '    !!! tip "Shortcut"\n\n        Press the button.\n' in out
    page = to_html(out)
    assert '<li>\n<p>First step.</p>\n<div class="admonition tip">' in page
    assert "<li>\n<p>Second step.</p>" in page and ":::" not in page


def test_callout_with_code_inside(tmp_path):
    out = render(
        """
        ::: {.callout-note}
        Run:

        ```python
        print("::: not a fence")
        ```
        :::
        """,
        tmp_path,
    )
    page = to_html(out)
    assert '<div class="admonition note">' in page
    assert "print" in page and "::: not a fence" in page and "<pre" in page


def test_html_callout_tip_with_heading(tmp_path):
    out = render(
        """
        ::: {.callout-tip}
        ## Use a GPU

        Training takes *minutes*, not hours.
        :::
        """,
        tmp_path,
    )
    page = to_html(out)
    assert '<div class="admonition tip">' in page
    assert '<p class="admonition-title">Use a GPU</p>' in page
    assert "<em>minutes</em>" in page
    assert ":::" not in page and "<h2" not in page


def test_html_collapsed_callout_is_details(tmp_path):
    page = to_html(
        render(
            """
        ::: {.callout-note collapse="true"}
        ## Click to expand
        Hidden text.
        :::
        """,
            tmp_path,
        )
    )
    assert '<details class="note">' in page and "<summary>Click to expand</summary>" in page
    assert "open" not in page and ":::" not in page
    page = to_html(render('::: {.callout-caution collapse="false"}\nShown.\n:::\n', tmp_path))
    assert '<details class="caution" open="open">' in page


# --- other divs ---------------------------------------------------------------------------


def test_margin_div(tmp_path):
    out = render("Text.\n\n::: {.column-margin}\nA *margin* note.\n:::\n\nMore.\n", tmp_path)
    assert out == (
        'Text.\n\n<div class="column-margin" markdown>\n\nA *margin* note.\n\n</div>\n\nMore.\n'
    )
    assert '<div class="column-margin">\n<p>A <em>margin</em> note.</p>\n</div>' in to_html(out)


def test_layout_ncol(tmp_path):
    out = render(
        """
        ::: {layout-ncol=2}
        ![First](a.png)

        ![Second](b.png)
        :::
        """,
        tmp_path,
    )
    assert out.startswith(
        '<div style="display:grid;grid-template-columns:repeat(2,minmax(0,1fr));'
        'gap:1rem" markdown>\n'
    )
    page = to_html(out)
    assert ":::" not in page and "layout-ncol" not in page
    assert page.count("<img") == 2 and "grid-template-columns:repeat(2" in page


def test_layout_widths_and_figure_id(tmp_path):
    out = render('::: {#fig-pair layout="[[40,60]]"}\nx\n:::\n', tmp_path)
    assert (
        '<div id="fig-pair" style="display:grid;grid-template-columns:minmax(0,40fr) '
        'minmax(0,60fr);gap:1rem" markdown>'
    ) in out


def test_columns(tmp_path):
    page = to_html(
        render(
            """
        :::: {.columns}
        ::: {.column width="40%"}
        Left.
        :::

        ::: {.column width="60%"}
        Right.
        :::
        ::::
        """,
            tmp_path,
        )
    )
    assert '<div class="columns" style="display:flex;gap:1rem">' in page
    assert '<div class="column" style="width:40%">\n<p>Left.</p>' in page
    assert '<div class="column" style="width:60%">\n<p>Right.</p>' in page
    assert ":::" not in page


def test_panel_tabset(tmp_path):
    out = render(
        """
        ::: {.panel-tabset}
        ## Python

        ```python
        ## a comment, not a tab
        print(1)
        ```

        ## R {#r-tab}

        ### A deeper heading stays

        ``` r
        print(1)
        ```
        :::
        """,
        tmp_path,
    )
    assert '===! "Python"\n\n    ```python\n    ## a comment, not a tab\n' in out
    assert '=== "R"\n\n    ### A deeper heading stays\n' in out
    page = to_html(out)
    assert page.count('class="tabbed-set') == 1 and ":::" not in page
    assert ">Python</label>" in page and ">R</label>" in page
    assert "<h3" in page and "a comment, not a tab" in page


def test_tab_sets_in_a_row_stay_apart(tmp_path):
    tabset = "::: {.panel-tabset}\n## A\na\n\n## B\nb\n:::\n\n"
    page = to_html(render(tabset * 2, tmp_path))
    assert page.count('class="tabbed-set') == 2


def test_tabset_without_headings_is_a_div(tmp_path):
    out = render("::: {.panel-tabset}\nJust text.\n:::\n", tmp_path)
    assert out.startswith('<div class="panel-tabset" markdown>\n')


@pytest.mark.parametrize(
    ("attrs", "shown"),
    [
        ('.content-visible when-format="html"', True),
        ('.content-visible when-format="pdf"', False),
        ('.content-visible unless-format="html"', False),
        ('.content-hidden when-format="html"', False),
        ('.content-hidden when-format="pdf"', True),
        (".content-visible", True),
    ],
)
def test_conditional_content(tmp_path, attrs, shown):
    out = render(f"Before.\n\n::: {{{attrs}}}\nConditional.\n:::\n\nAfter.\n", tmp_path)
    assert ("Conditional." in out) is shown
    assert ":::" not in out and "content-" not in out


def test_other_attributes(tmp_path):
    out = render('::: {.aside .hidden key="v&w"}\nx\n:::\n', tmp_path)
    assert out.startswith('<div class="aside hidden" data-key="v&amp;w" hidden markdown>\n')


# --- fenced div errors --------------------------------------------------------------------


def test_unclosed_div(tmp_path):
    with pytest.raises(PostError) as err:
        render("Intro.\n\n::: {.callout-note}\nNever closed.\n", tmp_path, cell=3)
    assert err.value.cell == 3 and "post.qmd, cell 3" in str(err.value)
    assert "`::: {.callout-note}` (line 3) is never closed" in err.value.problem
    assert "same Markdown cell" in err.value.fix


def test_stray_closing_fence(tmp_path):
    with pytest.raises(PostError, match=r"the line `:::` \(line 2\) closes no fenced div"):
        render("Text.\n:::\n", tmp_path)


def test_unreadable_attributes(tmp_path):
    expected = re.escape("can't read the attributes of `::: {callout-note}`")
    with pytest.raises(PostError, match=expected):
        render("::: {callout-note}\nx\n:::\n", tmp_path)


# --- shortcodes ---------------------------------------------------------------------------

YOUTUBE = (
    '<div class="video-embed"><iframe src="https://www.youtube-nocookie.com/embed/wo9vZccmqwc'
    '" title="YouTube video" loading="lazy" allowfullscreen></iframe></div>'
)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=wo9vZccmqwc",
        "https://youtu.be/wo9vZccmqwc",
        "https://www.youtube.com/embed/wo9vZccmqwc",
        '"https://youtu.be/wo9vZccmqwc"',
    ],
)
def test_video_youtube(tmp_path, url):
    out = render(f"Watch:\n\n{{{{< video {url} >}}}}\n\nThen read.\n", tmp_path)
    assert out == f"Watch:\n\n{YOUTUBE}\n\nThen read.\n"


def test_video_arguments_on_several_lines(tmp_path):
    out = render(
        """
        {{< video https://www.youtube.com/embed/wo9vZccmqwc
            title="What is the CERN?"
            start="116"
            aspect-ratio="21x9"
        >}}
        """,
        tmp_path,
    )
    assert (
        '<div class="video-embed" style="padding-bottom: 42.86%;"><iframe src="https://www.'
        'youtube-nocookie.com/embed/wo9vZccmqwc?start=116" title="What is the CERN?"'
    ) in out
    assert "{{<" not in out and ">}}" not in out


def test_video_vimeo_and_files(tmp_path):
    out = render("{{< video https://vimeo.com/548291297 >}}\n", tmp_path)
    assert '<iframe src="https://player.vimeo.com/video/548291297" title="Vimeo video"' in out
    out = render('{{< video "clip one.mp4" title="A <clip>" >}}\n', tmp_path)
    assert '<video controls preload="metadata" src="clip one.mp4" title="A &lt;clip&gt;"' in out
    assert out.startswith('<div class="video-embed">')


def test_video_in_a_callout_and_in_a_paragraph(tmp_path):
    out = render(
        """
        ::: {.callout-note}
        {{< video https://youtu.be/wo9vZccmqwc >}}
        :::

        Inline {{< video https://youtu.be/wo9vZccmqwc >}} text.
        """,
        tmp_path,
    )
    assert f"!!! note\n\n    {YOUTUBE}\n" in out
    assert f"Inline\n\n{YOUTUBE}\n\ntext." in out  # a block of its own, not inside a <p>
    page = to_html(out)
    assert '<div class="admonition note">' in page and page.count("youtube-nocookie") == 2


def test_video_errors(tmp_path):
    with pytest.raises(PostError, match="can't find the video in the YouTube address"):
        render("{{< video https://www.youtube.com/@channel >}}\n", tmp_path)
    with pytest.raises(PostError, match="without a URL"):
        render("{{< video >}}\n", tmp_path)


def test_pagebreak(tmp_path):
    out = render("One.\n\n{{< pagebreak >}}\n\nTwo.\n", tmp_path)
    assert out == 'One.\n\n<div style="page-break-after: always;"></div>\n\nTwo.\n'


def test_kbd(tmp_path):
    out = render("Press {{< kbd Shift-Ctrl-P >}} to print.\n", tmp_path)
    assert out == "Press <kbd>Shift-Ctrl-P</kbd> to print.\n"
    out = render("{{< kbd mac=Shift-Command-O win=Shift-Control-O linux=Shift-Ctrl-L >}}", tmp_path)
    assert out == (
        "<kbd>Shift-Command-O</kbd> (macOS) / <kbd>Shift-Control-O</kbd> (Windows) / "
        "<kbd>Shift-Ctrl-L</kbd> (Linux)"
    )
    out = render("{{< kbd Ctrl-C mac=Command-C >}}", tmp_path)
    assert out == "<kbd>Ctrl-C</kbd> / <kbd>Command-C</kbd> (macOS)"


def test_escaped_shortcodes_show_the_code(tmp_path):
    out = render("Write {{{< var version >}}} or {{{<kbd X>}}}.\n", tmp_path)
    assert out == "Write {{&lt; var version &gt;}} or {{&lt;kbd X&gt;}}.\n"
    assert to_html(out) == "<p>Write {{&lt; var version &gt;}} or {{&lt;kbd X&gt;}}.</p>"


@pytest.mark.parametrize(
    "shortcode",
    [
        "{{< meta title >}}",
        "{{< var version >}}",
        "{{< foo >}}",
        "{{< env HOME >}}",
        "{{< lipsum 2 >}}",
    ],
)
def test_unknown_shortcode(tmp_path, shortcode):
    with pytest.raises(PostError) as err:
        render(f"Intro {shortcode} text.\n", tmp_path, cell=2)
    assert "post.qmd, cell 2" in str(err.value)
    assert shortcode in err.value.problem and "can't render" in err.value.problem
    assert "Shortcodes that work here: video, include, pagebreak, kbd, tweet." in err.value.fix


def test_every_problem_is_reported(tmp_path):
    with pytest.raises(PostErrors) as err:
        render("{{< meta title >}}\n\n{{< var x >}}\n\n::: {.callout-note}\n", tmp_path)
    assert len(err.value.errors) == 3


# --- includes -----------------------------------------------------------------------------


def test_include(tmp_path):
    (tmp_path / "_intro.md").write_text(
        "---\ntitle: ignored\n---\nShared *intro* with {{< kbd Ctrl-S >}}.\n\n"
        "::: {.callout-tip}\nFrom the include.\n:::\n",
        "utf-8",
    )
    out = render(
        """
        # Post

        {{< include _intro.md >}}

        - In a list:

            {{< include _intro.md >}}

        The end.
        """,
        tmp_path,
    )
    assert "title: ignored" not in out and "{{<" not in out and ":::" not in out
    assert "Shared *intro* with <kbd>Ctrl-S</kbd>.\n\n!!! tip\n\n    From the include.\n" in out
    assert "    Shared *intro*" in out and "    !!! tip\n\n        From the include." in out
    page = to_html(out)
    assert page.count("<em>intro</em>") == 2 and page.count('<div class="admonition tip">') == 2
    assert "<li>\n<p>In a list:</p>\n<p>Shared" in page


def test_include_is_recursive_and_relative_to_the_post(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "_a.md").write_text("A {{< include parts/_b.md >}}\n", "utf-8")
    (tmp_path / "parts" / "_b.md").write_text("and B.\n", "utf-8")
    # As in Quarto, paths in an included file are relative to the post, not to that file.
    assert render("{{< include parts/_a.md >}}\n", tmp_path) == "A and B.\n"


def test_include_qmd_cells(tmp_path):
    (tmp_path / "_data.qmd").write_text("```{python}\n#| echo: true\nx = 1\n```\n", "utf-8")
    assert render("{{< include _data.qmd >}}\n", tmp_path) == "```python\nx = 1\n```\n"


def test_include_missing_file(tmp_path):
    with pytest.raises(PostError) as err:
        render("{{< include _missing.md >}}\n", tmp_path)
    text = str(err.value)
    assert "post.qmd" in text and "_missing.md" in text and "does not exist" in text
    assert "starts with _" in err.value.fix


def test_include_loop(tmp_path):
    (tmp_path / "_a.md").write_text("{{< include _b.md >}}\n", "utf-8")
    (tmp_path / "_b.md").write_text("{{< include _a.md >}}\n", "utf-8")
    with pytest.raises(PostError, match="includes itself"):
        render("{{< include _a.md >}}\n", tmp_path)


def test_include_in_code_is_left_alone(tmp_path):
    text = "```\n{{< include _missing.md >}}\n```\n\n`{{< include _missing.md >}}`\n"
    assert render_quarto(text, tmp_path / "post.qmd") == text


# --- .qmd executable cells ----------------------------------------------------------------


def test_qmd_code_cells():
    text = md("""
        Intro.

        ```{python}
        #| label: fig-plot
        #| fig-cap: "A plot"
        import math
        print(math.pi)
        ```

        ```{python}
        #| echo: false
        secret()
        ```

        ```{r, include=FALSE}
        library(ggplot2)
        ```

        ```{julia}
        #| include: false
        using Plots
        ```

        ```{ojs}
        //| echo: true
        viewof x = Inputs.range([0, 1])
        ```

        ```{r}
        summary(cars)
        ```

        ```{python}
        #| filename: hello.py
        print("hi")
        ```

        ```python
        # not executable: as is
        ```
        """)
    out, count = qmd_code_cells(text)
    assert count == 7
    assert "#|" not in out and "//|" not in out and "{python}" not in out
    assert "```python\nimport math\nprint(math.pi)\n```" in out
    assert "secret" not in out and "ggplot2" not in out and "Plots" not in out
    assert "```javascript\nviewof x" in out and "```r\nsummary(cars)\n```" in out
    assert '```python title="hello.py"\nprint("hi")\n```' in out
    assert "```python\n# not executable: as is\n```" in out
    page = to_html(out)
    assert "math" in page and "<pre" in page and "{python}" not in page


def test_qmd_cells_left_alone_and_shown_verbatim():
    text = md("""
        ````markdown
        ```{python}
        1 + 1
        ```
        ````

        ~~~
        ```{r}
        ~~~
        """)
    assert qmd_code_cells(text) == (text, 0)
    out, count = qmd_code_cells("```{{python}}\n1 + 1\n```\n")
    assert count == 0  # Quarto's unexecuted cell: shown with its fences
    assert out == "````markdown\n```{python}\n1 + 1\n```\n````\n"
    out, count = qmd_code_cells("```{mermaid}\n%%| fig-width: 6\nflowchart LR\n```\n")
    assert (out, count) == ("```mermaid\nflowchart LR\n```\n", 0)


def test_qmd_cells_unclosed_and_crlf():
    out, count = qmd_code_cells("```{python}\r\n#| echo: true\r\nx = 1\r\n")
    assert (out, count) == ("```python\nx = 1\n\n```", 1)


# --- odds and ends ------------------------------------------------------------------------


def test_tabset_in_a_callout(tmp_path):
    page = to_html(
        render(
            """
        ::: {.callout-tip}
        ## Two ways

        ::: {.panel-tabset}
        ### pip
        `pip install x`

        ### conda
        `conda install x`
        :::
        :::
        """,
            tmp_path,
        )
    )
    assert '<p class="admonition-title">Two ways</p>\n<div class="tabbed-set' in page
    assert ">pip</label>" in page and ">conda</label>" in page and ":::" not in page


def test_more_video_addresses(tmp_path):
    out = render("{{< video https://www.youtube-nocookie.com/embed/wo9vZccmqwc >}}", tmp_path)
    assert out == YOUTUBE


def test_shortcodes_do_not_run_across_paragraphs(tmp_path):
    text = "A lone {{< here.\n\nThen {{< kbd K >}}.\n"
    assert render(text, tmp_path) == "A lone {{< here.\n\nThen <kbd>K</kbd>.\n"


def test_include_over_several_lines(tmp_path):
    with pytest.raises(PostError, match="over several lines"):
        render("{{< include\n    _a.md >}}\n", tmp_path)


def test_errors_in_included_files_say_where(tmp_path):
    (tmp_path / "_part.md").write_text("Text.\n\n::: {.callout-note}\nno end\n", "utf-8")
    with pytest.raises(PostError, match=r"\(line 3 of _part.md\) is never closed"):
        render("Intro.\n\n{{< include _part.md >}}\n", tmp_path)


def test_long_text_is_fast(tmp_path):
    block = "- item\n\n    ::: {.callout-note}\n    Body {{< kbd K >}}\n    :::\n\n" * 2000
    out = render_quarto(block, tmp_path / "post.qmd")
    assert out.count("!!! note") == 2000


def test_tweet_shortcode_becomes_the_embed():
    out = render_quarto(
        "{{< tweet user=jack id=20 >}}\n\n{{< tweet 1325474361407660034 >}}\n", Path("post.qmd")
    )
    assert 'href="https://twitter.com/jack/status/20"' in out
    assert 'href="https://twitter.com/i/status/1325474361407660034"' in out
    with pytest.raises(PostError, match="without the post's number"):
        render_quarto("{{< tweet user=jack >}}\n", Path("post.qmd"))
