"""blog.liquid: fastpages' Liquid tags become the Markdown that renders as Jekyll rendered them."""

import re
from pathlib import Path

import markdown
import pytest

from blog import PostError
from blog.callouts import _embed
from blog.liquid import render_liquid

POST = Path("posts/2020-01-14-test.md")
EXTENSIONS = [
    "admonition",
    "footnotes",
    "md_in_html",
    "attr_list",
    "pymdownx.superfences",
    "pymdownx.details",
]
TWEET = "https://twitter.com/jakevdp/status/1204765621767901185?s=20"


def render(text: str, **kwargs) -> str:
    return render_liquid(text, POST, **kwargs)


def to_html(text: str) -> str:
    return markdown.markdown(render(text), extensions=EXTENSIONS)


def test_text_without_liquid_is_returned_as_is():
    text = "# Title\r\n\n```python\nd = {'a': {1}}\n```\n  trailing  \n"
    assert render(text) is text


@pytest.mark.parametrize(
    ("include", "header"),
    [
        ('alert.html text="Careful here"', "!!! warning"),
        ("alert.html text='Careful here'", "!!! warning"),
        ('alert.html content="Careful here"', "!!! warning"),
        ('info.html text="Careful here"', "!!! info"),
        ('note.html content="Careful here"', "!!! note"),
        ('tip.html content="Careful here"', "!!! tip"),
        ('warning.html content="Careful here"', "!!! warning"),
        ('important.html content="Careful here"', '!!! danger "Important"'),
    ],
)
def test_admonition_includes(include, header):
    text = f"Before.\n\n{{% include {include} %}}\n\nAfter."
    assert render(text) == f"Before.\n\n{header}\n\n    Careful here\n\nAfter."


def test_admonition_inline_in_a_paragraph_gets_lines_of_its_own():
    out = render('Some text {% include note.html content="a *note*" %} more text.\nNext line.')
    assert out == "Some text\n\n!!! note\n\n    a *note*\n\nmore text.\nNext line."


def test_admonition_keeps_the_indentation_of_its_line():
    out = render('1. item\n\n    {% include note.html content="a\nb" %}\n    more\n')
    assert out == "1. item\n\n    !!! note\n\n        a\n        b\n\n    more\n"
    html = markdown.markdown(out, extensions=EXTENSIONS)
    assert '<li>\n<p>item</p>\n<div class="admonition note">' in html


def test_admonition_text_with_markdown_and_escaped_quotes():
    out = render(
        r'{% include tip.html content="Run `pip install \"x\"`, see [docs](https://x.io)"'
        " %}"
    )
    assert out == '!!! tip\n\n    Run `pip install "x"`, see [docs](https://x.io)'
    html = to_html(r'{% include tip.html content="Run `pip`, see [docs](https://x.io)" %}')
    assert '<div class="admonition tip">' in html
    assert "<code>pip</code>" in html and '<a href="https://x.io">docs</a>' in html


def test_alert_renders_as_material_warning():
    html = to_html('Intro.\n{% include alert.html text="You can include alert boxes" %}\nOutro.')
    assert '<div class="admonition warning">' in html
    assert "<p>You can include alert boxes</p>" in html
    assert "<p>Intro.</p>" in html and "<p>Outro.</p>" in html


def test_include_parameters_without_quotes_and_with_site_baseurl():
    out = render(
        "{% include image.html file={{site.baseurl}}/images/a.png alt=Logo max-width=300 %}"
    )
    assert out == (
        '<figure markdown="span">\n![Logo](</images/a.png>){ style="max-width: 300px" }\n</figure>'
    )


def test_image_include_with_link_and_caption():
    out = render(
        '{% include image.html file="/images/c.png" alt="A [cat]" url="https://x.io" '
        'caption="From `fastai`" %}'
    )
    html = markdown.markdown(out, extensions=EXTENSIONS)
    assert html.startswith("<figure>")
    assert '<a href="https://x.io" rel="noopener noreferrer" target="_blank">' in html
    assert '<img alt="A [cat]" src="/images/c.png" />' in html
    assert "<figcaption>From <code>fastai</code></figcaption>" in html


def test_image_include_in_a_line_of_html_is_plain_html():
    out = render('<center>{% include image.html file="/i/a b.png" alt=\'"x"\' %}</center>')
    assert out == '<center><figure><img src="/i/a b.png" alt="&quot;x&quot;"></figure></center>'


def test_youtube_include_is_the_same_embed_as_the_callout():
    embed = _embed("youtube", "https://youtu.be/Ll50l3fsoYs")[0]
    assert "youtube-nocookie.com/embed/Ll50l3fsoYs" in embed
    assert render('{% include youtube.html content="https://youtu.be/Ll50l3fsoYs" %}') == embed
    # nbdev, which fastpages used for notebooks, passed the URL as a link.
    assert (
        render(
            "{% include youtube.html content='<a href=\"https://www.youtube.com/watch?v="
            "Ll50l3fsoYs\">https://www.youtube.com/watch?v=Ll50l3fsoYs</a>' %}"
        )
        == embed
    )
    assert render('{% include youtube.html content="Ll50l3fsoYs" %}') == embed  # a bare ID


def test_video_include():
    out = render('A demo:\n{% include video.html url="https://x.io/a.mp4?b=1&c=2" %}')
    assert out.startswith('A demo:\n\n<div class="video-file"><video controls ')
    assert '<source src="https://x.io/a.mp4?b=1&amp;c=2" type="video/mp4"></video></div>' in out
    assert 'type="video/webm"' in render('{% include video.html url="/v/a.webm" %}')


def test_twitter_tag_is_the_same_embed_as_the_callout():
    out = render(f"## Tweetcards\n\n{{% twitter {TWEET} %}}\n\n## Footnotes")
    assert out == "## Tweetcards\n\n" + "\n".join(_embed("twitter", TWEET)) + "\n\n## Footnotes"
    assert render(f"{{% include twitter.html content='<a href=\"{TWEET}\">{TWEET}</a>' %}}") == (
        "\n".join(_embed("twitter", TWEET))
    )


def test_twitter_inside_center_stays_one_valid_html_line():
    out = render(f"Read the announcement:\n\n<center>{{% twitter {TWEET} %}}</center>\n\n## Next")
    line = out.splitlines()[2]
    assert line == "<center>" + "".join(_embed("twitter", TWEET)) + "</center>"
    html = markdown.markdown(out, extensions=EXTENSIONS)
    assert '<center><blockquote class="twitter-tweet">' in html
    assert "</script></center>" in html and "<h2>Next</h2>" in html


def test_footnotes():
    text = (
        "Here is a footnote {% fn 1 %}.\nAnd another{% fn 2 %}\n"
        "{{ 'This is the footnote.' | fndetail: 1 }}\n"
        "{{ 'The other one, with a [link](www.github.com)!' | fndetail: 2 }}"
    )
    assert render(text) == (
        "Here is a footnote [^1].\nAnd another[^2]\n\n[^1]: This is the footnote.\n\n"
        "[^2]: The other one, with a [link](www.github.com)!"
    )


def test_footnote_text_in_double_quotes_with_quotes_inside():
    out = render('More flexible.{% fn 1 %}\n\n{{ "It won\'t say \\"no\\"." | fndetail: 1 }}')
    assert out == 'More flexible.[^1]\n\n[^1]: It won\'t say "no".'


def test_footnotes_render_as_python_markdown_footnotes():
    html = to_html(
        "Text {% fn 1 %} and {% fn 2 %}.\n"
        "{{ 'One [link](https://x.io).' | fndetail: 1 }}\n{{ 'Two.' | fndetail: 2 }}"
    )
    assert '<sup id="fnref:1">' in html and '<sup id="fnref:2">' in html
    assert '<div class="footnote">' in html
    assert '<li id="fn:1">' in html and '<li id="fn:2">' in html
    assert '<a href="https://x.io">link</a>' in html


def test_site_variables_become_empty():
    text = '![]({{ site.baseurl }}/images/logo.png "logo") [a]({{site.baseurl}}/a) {{  site.url  }}'
    assert render(text) == '![](/images/logo.png "logo") [a](/a) '
    assert render("{{ '/images/x.png' | relative_url }}") == "/images/x.png"


def test_model_report_is_left_alone():
    for text in ('{{ model_report("digits") }}', "Intro\n\n{{ model_report('bears') }}\n"):
        assert render(text) == text


def test_raw_block_around_a_fence():
    text = (
        "Payload:\n\n{% raw %}\n\n```yaml\nkey: ${{ secrets.KEY }}\nfn: {% fn 1 %}\n```\n"
        "{{ 'x' | fndetail: 1 }}\n{% endraw %}\nDone {% fn 3 %}."
    )
    assert render(text) == (
        "Payload:\n\n\n\n```yaml\nkey: ${{ secrets.KEY }}\nfn: {% fn 1 %}\n"
        "```\n{{ 'x' | fndetail: 1 }}\n\nDone [^3]."
    )


def test_raw_inside_a_fence_on_one_line_and_over_lines():
    text = (
        "```\n{% raw %}Here is a footnote {% fn 1 %}.\n"
        "{{ 'This is the footnote.' | fndetail: 1 }}{% endraw %}\n```\n\n"
        "`{%raw%}{% fn 2 %}{%endraw%}` and {%- raw -%}{{ x }}{%- endraw -%}"
    )
    out = render(text)
    assert out == (
        "```\nHere is a footnote {% fn 1 %}.\n"
        "{{ 'This is the footnote.' | fndetail: 1 }}\n```\n\n`{% fn 2 %}` and {{ x }}"
    )
    html = markdown.markdown(out, extensions=EXTENSIONS)
    assert "<code>Here is a footnote {% fn 1 %}.\n{{ 'This is the footnote.' | fndetail" in html
    assert "<code>{% fn 2 %}</code>" in html and "footnote" not in html.split("</pre>")[1]


def test_known_tags_are_processed_in_code_too():
    # Jekyll ran Liquid before Markdown, so a tag in code was rendered, not shown.
    assert render("```\n{{ site.baseurl }}/x {% fn 1 %}\n```") == "```\n/x [^1]\n```"
    assert render("`{{site.baseurl}}/x`") == "`/x`"


@pytest.mark.parametrize(
    "text",
    [
        "```yaml\nwith:\n  password: ${{ secrets.pypi_password }}\n  x: {% unknown %}\n```",
        "~~~~\n{{ toJSON(github.event) }}\n~~~~",
        "Use `${{ secrets.TOKEN }}` or ``{% endraw %}`` or `{% raw %}` in a workflow.",
        '```rust\nformat!("{{")\n```',
        "An unclosed fence runs to the end:\n```\n{% if x %}",
        "Math: $\\binom{n}{k} = {{n}\\choose{k}}$ and $$\\frac{{a}}{b}$$",
    ],
)
def test_unknown_tags_in_code_and_math_are_kept(text):
    assert render(text) == text


def test_a_stray_opener_in_code_does_not_swallow_later_tags():
    out = render("```\nformat!(\"{{\")\n```\n\nText{% fn 1 %}\n\n{{ 'Note.' | fndetail: 1 }}")
    assert out == '```\nformat!("{{")\n```\n\nText[^1]\n\n[^1]: Note.'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Hello {% octicon alert %} world", "unknown Liquid tag `{% octicon alert %}`"),
        ("Title: {{ page.title }}", "unknown Liquid expression `{{ page.title }}`"),
        ("{{ secrets.X }} outside code", "unknown Liquid expression `{{ secrets.X }}`"),
    ],
)
def test_unknown_tags_outside_code_are_errors(text, shown):
    with pytest.raises(PostError) as caught:
        render_liquid(text, Path("posts/2020-02-20-test.ipynb"), cell=7)
    message = str(caught.value)
    assert message.startswith("posts/2020-02-20-test.ipynb, cell 7: ")
    assert shown in message
    assert "include alert/info/note/important/warning/tip" in message
    assert "{% raw %}...{% endraw %}" in message
    assert caught.value.cell == 7


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{% raw %} never closed", "`{% raw %}` is never closed"),
        ("closed {% endraw %} without raw", "`{% endraw %}` has no `{% raw %}`"),
        ("{% include note.html content='x'", "`{%` is never closed"),
        ("{% include foo.html %}", "`foo.html`, which is not a fastpages include"),
        ("{% include %}", "names no file"),
        ('{% include note.html contnet="x" %}', "unknown parameter `contnet`"),
        ('{% include note.html content="x" stray %}', "can't be read"),
        ("{% include video.html %}", 'has no url="URL"'),
        ('{% include youtube.html content="https://vimeo.com/" %}', "is not a YouTube link"),
        ('{% include image.html alt="x" %}', "has no file="),
        ('{% include image.html file="a.png" max-width="big" %}', "not a width"),
        ("{% twitter %}", "names no tweet"),
        ("{% fn %}", "needs a footnote number"),
    ],
)
def test_broken_known_tags_are_errors(text, problem):
    with pytest.raises(PostError, match=re.escape("posts/2020-01-14-test.md: ")) as caught:
        render(text)
    assert problem in str(caught.value)
    assert caught.value.fix


def test_long_tags_are_shortened_in_messages():
    with pytest.raises(PostError) as caught:
        render("{{ " + "word " * 40 + "}}")
    assert "word word...`" in str(caught.value)


def test_jekyll_block_tags_and_post_links():
    text = (
        "Intro{% comment %} a note to self {% endcomment %}.\n\n"
        "{% highlight python linenos %}\nprint({{ x }})\n{% endhighlight %}\n\n"
        "[older]({% post_url 2020-01-14-test-markdown-post %}) "
        "[other]({% link _notebooks/2020-02-20-test.ipynb %})\n"
    )
    out = render_liquid(text, Path("post.md"))
    assert "a note to self" not in out and "Intro." in out
    assert "```python\nprint({{ x }})\n```" in out  # code: unknown `{{ }}` stays as written
    assert "[older](/2020-01-14-test-markdown-post.md)" in out
    assert "[other](/2020-02-20-test.ipynb)" in out


def test_quarto_shortcodes_are_not_liquid():
    text = "{{< video https://youtu.be/x >}} and {{{< var x >}}}"
    assert render_liquid(text, Path("post.qmd")) == text
