"""Math as Jupyter and kramdown typeset it, rendered by the site's Python-Markdown."""

import markdown

from blog.convert import demote_headings
from blog.mathtext import fix_math


def render(text):
    return markdown.markdown(
        text,
        extensions=["pymdownx.arithmatex", "pymdownx.superfences"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )


def test_display_math_inside_a_sentence_is_math_without_stray_dollars():
    html = render(
        fix_math("covariances $$C_1, C_2$$ are\nscale like\n$$[Y-X]$$ and thus", notebook=True)
    )
    assert "$" not in html.replace("\\displaystyle", "")
    assert html.count('class="arithmatex"') == 2
    assert "\\(C_1, C_2\\)" in render(fix_math("so $$C_1, C_2$$ are", notebook=False))


def test_indented_display_math_and_code_are_kept_apart():
    text = " $$ a+b $$\n\n```\nprint('$$x$$ y')\n```\n\nand `$$z$$ w` in code"
    out = fix_math(text, notebook=True)
    assert out.startswith("$$ a+b $$") and "print('$$x$$ y')" in out and "`$$z$$ w`" in out
    assert '<div class="arithmatex">\\[ a+b \\]</div>' in render(out)


def test_an_equals_line_inside_display_math_is_no_heading():
    body = "# Section\n\n$$\nf\\left(x\\right)\n  = \n  y\n$$\n"
    out = demote_headings(body)
    assert out.startswith("## Section") and "\n  = \n" in out and "## f" not in out
    assert '<div class="arithmatex">' in render(out)


def test_equation_references_in_prose_are_typeset():
    out = fix_math("By \\eqref{eq:loss}, and `\\eqref{code}` stays; $\\ref{x}$ too.", notebook=True)
    assert out == "By \\(\\eqref{eq:loss}\\), and `\\eqref{code}` stays; $\\ref{x}$ too."
    assert '<span class="arithmatex">\\(\\eqref{eq:loss}\\)</span>' in render(out)


def test_display_math_after_text_and_one_equation_a_line():
    html = render(fix_math("Thus $$E_{x}\n = 1$$ and so.\nSix:\n$$a$$\n$$b$$\nend", notebook=True))
    assert html.count('<div class="arithmatex">') == 3 and "$" not in html
    assert "<p>and so.\nSix:</p>" in html or "and so." in html


def test_numbered_equation_in_a_list_item_stays_display_math():
    html = render(fix_math("- the loss $$L \\tag{2}\\label{eq:l}$$\n- next", notebook=True))
    item = html[html.index("<li>") : html.index("</li>")]
    assert '<div class="arithmatex">\\[L \\tag{2}\\label{eq:l}\\]</div>' in item


def test_escapes_and_spaced_inline_math_as_jupyter_shows_them():
    out = fix_math(
        "I\\'d say \\\"hi\\\" \\& \\$5, $ f(x) = c_0,$ and $ 5 and $ 10 `\\'x`", notebook=True
    )
    assert out == "I'd say \"hi\" &amp; \\$5, $f(x) = c_0,$ and $ 5 and $ 10 `\\'x`"
