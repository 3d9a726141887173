"""Math as Jupyter and kramdown typeset it, rendered by the site's Python-Markdown."""

import markdown

from blog.convert import demote_headings
from blog.mathtext import fix_math


def render(text):
    return markdown.markdown(text, extensions=["pymdownx.arithmatex", "pymdownx.superfences"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})


def test_display_math_inside_a_sentence_is_math_without_stray_dollars():
    html = render(fix_math("covariances $$C_1, C_2$$ are\nscale like\n$$[Y-X]$$ and thus",
                           notebook=True))
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
