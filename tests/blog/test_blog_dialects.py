"""fastpages', Jekyll's, Quarto's and Jupyter's conventions, each in a small post written here,
built with the project's real `mkdocs build --strict` and checked in the HTML."""

import re

import nbformat
import pytest
from blog_helpers import PNG_1PX, new_code_cell, new_markdown_cell, new_output, notebook, write_nb

from blog import PostError, Settings, convert

pytestmark = pytest.mark.slow


def article(site, url):
    page = site.page(url)
    return page[page.index("<article") : page.index("</article>")]


def png(path):
    import base64

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(PNG_1PX))


# --- files that aren't posts, folders of posts ----------------------------------------------


def test_readme_and_quarto_metadata_are_not_posts(site):
    (site.posts / "README.md").write_text("# Notes for me\n\nNot a post.\n", "utf-8")
    (site.posts / "_metadata.yml").write_text(
        "# defaults for every post below\nfreeze: true\nauthor: Quinn Quarto\n"
        "categories: [from-folder]\ntitle-block-banner: true\n",
        "utf-8",
    )
    post = site.posts / "welcome"
    post.mkdir()
    (post / "index.qmd").write_text(
        '---\ntitle: "Welcome"\ndate: "5/22/2021"\nimage: thumb.png\n---\n\nHello there.\n', "utf-8"
    )
    png(post / "thumb.png")
    site.build()
    body = article(site, "2021/05/22/welcome")
    assert "Hello there." in body and "By Quinn Quarto" in body
    assert "2021/05/22/welcome/" in site.page("category/from-folder")
    assert not list(site.public.rglob("README*")) and not list(site.public.rglob("_metadata*"))


def test_metadata_changes_rebuild_the_post(site):
    (site.posts / "_metadata.yml").write_text("author: First Author\n", "utf-8")
    (site.posts / "2026-01-01-a.md").write_text("---\ntitle: A\n---\n\nBody.\n", "utf-8")
    site.build()
    assert "By First Author" in article(site, "2026/01/01/a")
    (site.posts / "_metadata.yml").write_text("author: Second Author\n", "utf-8")
    site.build()
    assert "By Second Author" in article(site, "2026/01/01/a")


# --- front matter as fastpages and Jekyll accepted it --------------------------------------


def test_fastpages_header_variants(tmp_path):
    header = (
        '# "Star bullets"\n> "A summary"\n\n* toc: false\n* category: vision\n'
        "* layout: post\n* comments: true\n* search_exclude: true\n* sticky_rank: 2\n\n"
        "Prose after the front matter stays.\n\n- an ordinary list item"
    )
    post = convert(write_nb(tmp_path / "2026-02-03-stars.ipynb", notebook(header=header)))
    assert post.front.title == "Star bullets" and post.front.toc is False
    assert post.front.categories == ["vision"] and post.front.comments is True
    assert post.front.search_exclude is True and post.front.pin is True
    assert "Prose after the front matter stays." in post.markdown
    assert "- an ordinary list item" in post.markdown
    assert "toc:" not in post.markdown.split("---\n", 2)[2]


def test_jekyll_keys(tmp_path):
    path = tmp_path / "2026-01-01-jekyll.md"
    path.write_text(
        "---\nlayout: post\ntitle: J\ncategory: notes\npublished: false\n"
        "redirect_from: /old/j.html\nexcerpt_separator: <!--more-->\n"
        "some_theme_option: 3\n---\n\nBody.\n",
        "utf-8",
    )
    front = convert(path).front
    assert front.categories == ["notes"] and front.draft is True
    assert front.aliases == ["/old/j.html"]


def test_malformed_bullet_names_its_line(tmp_path):
    path = write_nb(
        tmp_path / "2026-01-01-x.ipynb",
        notebook(header='# "Title"\n> "Summary"\n- toc: true\n- categories [a, b]'),
    )
    with pytest.raises(PostError) as err:
        convert(path)
    assert "cell 1" in str(err.value) and "`- categories [a, b]`" in str(err.value)
    assert "- categories: VALUE" in str(err.value)


def test_plain_notebook_titles(tmp_path):
    nb = notebook(
        new_markdown_cell("## Lesson 3: *training*\n\nSome words."),
        new_code_cell("x = 1"),
        header=None,
    )
    post = convert(write_nb(tmp_path / "2026-01-01-lesson.ipynb", nb))
    assert post.front.title == "Lesson 3: *training*"
    assert post.markdown.count("Lesson 3") == 2  # the meta title and the page heading
    assert "## Lesson 3" not in post.markdown
    nb = notebook(new_code_cell("x = 1"), header=None)
    post = convert(write_nb(tmp_path / "2026-01-02-my-first-model.ipynb", nb))
    assert post.front.title == "My first model"
    # The heading that names the post isn't shown twice, in whichever cell it is.
    nb = notebook(
        new_code_cell("import fastai"),
        new_markdown_cell("Intro.\n\n## Fitting a function with *gradient descent*\n\nText."),
        header=None,
    )
    post = convert(write_nb(tmp_path / "2026-01-03-fit.ipynb", nb))
    assert "title: Fitting a function with gradient descent\n" in post.markdown
    assert post.markdown.count("gradient descent*") == 1 and "Intro." in post.markdown


def test_quarto_dates_and_authors(tmp_path):
    path = tmp_path / "post.md"
    path.write_text(
        "---\ntitle: Q\ndate: May 22, 2021\nauthor:\n  - name: Ada\n"
        "    url: https://ada.example\n  - name: {given: Bo, family: Ng}\n---\n",
        "utf-8",
    )
    front = convert(path).front
    assert str(front.date) == "2021-05-22"
    assert front.authors == ['<a href="https://ada.example">Ada</a>', "Bo Ng"]


def test_html_in_title_description_and_author(site):
    (site.posts / "2026-01-01-html.md").write_text(
        "---\ntitle: Using `store_attr` with <em>style</em>\n"
        'description: A tour of <a href="https://github.com/features/actions">Actions</a> '
        "and `code` <script>alert('x')</script><img src=x onerror=alert(1)>\n"
        "author: \"<a href='https://twitter.com/jane'>Jane</a> & Joe\"\n---\n\nBody.\n",
        "utf-8",
    )
    site.build()
    page = site.page("2026/01/01/html")
    body = article(site, "2026/01/01/html")
    assert "<code>store_attr</code>" in body and "<em>style</em>" in body
    assert '<a href="https://github.com/features/actions"' in body
    assert '<a href="https://twitter.com/jane"' in body and "Jane</a> &amp; Joe" in body
    assert "<code>code</code>" in body
    assert "<script>alert" not in page and "onerror" not in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert "store_attr with style" in title and "<" not in title and "&lt;" not in title
    index = site.page("")
    assert '<a href="https://github.com/features/actions"' in index
    assert "&lt;a href" not in index and "&lt;em&gt;" not in index


# --- how the page is laid out ---------------------------------------------------------------


def test_h1_sections_fill_the_table_of_contents(site):
    nb = notebook(
        new_markdown_cell("# Background\n\nText.\n\n## Detail\n\nMore."),
        new_code_cell("# a comment, not a heading\nx = 1"),
        new_markdown_cell("Setext section\n==============\n\nEnd."),
        header='# "Sections"',
    )
    write_nb(site.posts / "2026-01-01-sections.ipynb", nb)
    site.build()
    page = site.page("2026/01/01/sections")
    toc = page[page.index('data-md-component="toc"') :]
    for anchor in ("background", "detail", "setext-section"):
        assert f'href="#{anchor}" class="md-nav__link"' in toc
    body = article(site, "2026/01/01/sections")
    assert len(re.findall(r"<h1\b", body)) == 1
    assert re.search(r"<h2 id=\"background\"", body) and re.search(r"<h3 id=\"detail\"", body)
    assert "# a comment, not a heading" in body


def test_outputs_are_styled_apart_from_code(site):
    nb = notebook(
        new_code_cell("print(1)", outputs=[new_output("stream", name="stdout", text="one\n")]),
        new_code_cell(
            "df",
            outputs=[
                new_output(
                    "execute_result",
                    data={
                        "text/html": '<table class="dataframe"><tr><td>1</td></tr></table>',
                        "text/plain": "df",
                    },
                )
            ],
        ),
    )
    write_nb(site.posts / "2026-01-01-out.ipynb", nb)
    site.build()
    body = article(site, "2026/01/01/out")
    assert re.search(r'<div class="[^"]*nb-output[^"]*no-copy[^"]*"><pre>.*one', body, re.S)
    assert '<div class="nb-output"' in body and 'class="dataframe"' in body
    css = (site.public / "assets/stylesheets/blog.css").read_text("utf-8")
    assert ".nb-output table" in css


def test_note_inside_a_list_item(site):
    nb = notebook(new_markdown_cell("Steps:\n- first step\n  > Note: careful here\n- second"))
    write_nb(site.posts / "2026-01-01-list.ipynb", nb)
    site.build()
    body = article(site, "2026/01/01/list")
    item = re.search(r"<li>(.*?)</li>", body, re.S)[1]
    assert "first step" in item and 'class="admonition note"' in item


# --- images and links where fastpages put them ----------------------------------------------


def test_fastpages_image_paths(site):
    png(site.posts / "images" / "fastpages_posts" / "a.png")
    png(site.posts / "my_icons" / "b.png")
    (site.posts / "2026-01-01-imgs.md").write_text(
        "---\ntitle: Images\nimage: images/fastpages_posts/a.png\n---\n\n"
        "![one]({{ site.baseurl }}/images/fastpages_posts/a.png)\n\n"
        "![two](/images/fastpages_posts/a.png)\n\n![three](../images/fastpages_posts/a.png)\n\n"
        '![four](my_icons/b.png)\n\n<img src="/images/fastpages_posts/a.png" alt="five">\n\n'
        "[web](www.example.com/page)\n",
        "utf-8",
    )
    site.build()
    body = article(site, "2026/01/01/imgs")
    srcs = re.findall(r'<img[^>]+src="([^"]+)"', body)
    assert len(srcs) == 5
    for src in srcs:
        assert (site.public / "2026/01/01/imgs" / src).resolve().is_file(), src
    assert (site.public / "images/fastpages_posts/a.png").is_file()
    assert 'href="https://www.example.com/page"' in body


def test_every_problem_of_a_post_at_once(site):
    nb = notebook(
        new_markdown_cell("See ![gone](missing.png)."),
        new_markdown_cell("{% unknown_tag %}"),
        header='# "Broken"\n- date: not a date',
    )
    write_nb(site.posts / "2026-01-01-broken.ipynb", nb)
    (site.posts / "2026-01-02-also.md").write_text(
        "---\ntitle: Also\n---\n\n[x](nowhere.md)\n", "utf-8"
    )
    # Outside the posts folder: checked against the site's other pages.
    (site.posts / "2026-01-03-fine.md").write_text(
        "---\ntitle: Fine\n---\n\n[about](../missing-page.md)\n", "utf-8"
    )
    result = site.build(check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in out
    assert "5 problems in the posts" in out
    assert "2026-01-01-broken.ipynb, cell 1: `date: not a date` is not a date" in out
    assert "2026-01-01-broken.ipynb, cell 2: links to `missing.png`" in out
    assert "2026-01-01-broken.ipynb, cell 3: " in out and "unknown_tag" in out
    assert "2026-01-02-also.md: links to `nowhere.md`" in out
    assert "2026-01-03-fine.md: links to `../missing-page.md`" in out


def test_check_fails_where_the_build_fails(site):
    import subprocess
    import sys

    png(site.posts / "images" / "ok.png")
    (site.posts / "2026-01-02-also.md").write_text(
        "---\ntitle: Also\n---\n\n![x](/images/nope.png) ![ok](/images/ok.png)\n\n"
        "[y](nowhere.md) [about](../about.md) [demos](../demos.md) [gone](../gone.md)\n",
        "utf-8",
    )
    checked = subprocess.run(
        [sys.executable, "-m", "blog", "check"], cwd=site.root, capture_output=True, text=True
    )
    built = site.build(check=False)
    assert checked.returncode == 1 and built.returncode == 1
    for out in (checked.stderr, built.stdout + built.stderr):
        assert "links to `nowhere.md`" in out
        assert "gone.md" in out and "about.md" not in out.replace("'../gone.md'", "")


def test_settings_posts_root_resolves_site_absolute_paths(tmp_path):
    png(tmp_path / "images" / "x.png")
    sub = tmp_path / "deep"
    sub.mkdir()
    path = sub / "2026-01-01-p.md"
    path.write_text("---\ntitle: P\n---\n\n![a](/images/x.png)\n", "utf-8")
    post = convert(path, Settings(posts_root=str(tmp_path)))
    assert "![a](../images/x.png)" in post.markdown


def test_quarto_notebook_callout(site):
    nb = notebook(
        new_markdown_cell(
            '::: {.callout-tip collapse="true"}\n## Remember\n\nFine-tune first.\n:::'
        ),
        header=None,
    )
    nb.cells.insert(0, nbformat.v4.new_raw_cell("---\ntitle: Q\ndate: 2026-01-01\n---"))
    write_nb(site.posts / "q.ipynb", nb)
    site.build()
    body = article(site, "2026/01/01/q")
    assert '<details class="tip">' in body and "Remember" in body and ":::" not in body


def test_links_between_posts(site):
    write_nb(
        site.posts / "2020-02-20-test.ipynb",
        notebook(new_markdown_cell("Back to [the first post](2020-01-14-first.md).")),
    )
    (site.posts / "2020-01-14-first.md").write_text(
        "---\ntitle: First\n---\n\nSee [the notebook]({% post_url 2020-02-20-test %}), "
        "[again](2020-02-20-test.ipynb) and [via link]({% link _notebooks/2020-02-20-test.ipynb %}"
        ").\n",
        "utf-8",
    )
    site.build()
    first = article(site, "2020/01/14/first")
    assert first.count('href="../../../02/20/test/"') == 3
    assert 'href="../../../01/14/first/"' in article(site, "2020/02/20/test")


def test_what_fastpages_and_quarto_accepted_builds_with_notes(site):
    (site.posts / "_metadata.yml").write_text(
        "comments:\n  utterances:\n    repo: jane/blog-comments\n", "utf-8"
    )
    (site.posts / "2026-01-01-gans.md").write_text(
        "---\ntitle: GANs\nbg-image: x.png\nimage: images/some_folder/your_image.png\n---\n\n"
        "Covariances $$C_1, C_2$$ and $$= -\\alpha {2\\over n}\\sum [f(x_i)-y_i](x_i)^{j} $$\n",
        "utf-8",
    )
    nb = notebook(
        new_markdown_cell("Text."),
        header=(
            '# "Header"\n> "Summary"\n- toc: true\n- metadata_key1: metadata_value1\n'
            "- image: https://example.com/card.png\n- description: the real one"
        ),
    )
    write_nb(site.posts / "2026-01-02-header.ipynb", nb)
    result = site.build()
    log = result.stdout + result.stderr
    assert (
        "posts/2026-01-01-gans.md: front-matter key `bg-image` is not one this site uses "
        "(did you mean `image`?); it is ignored." in log
    )
    assert "`image: images/some_folder/your_image.png` names a file that doesn't exist" in log
    header = article(site, "2026/01/02/header")
    assert "metadata_key1" not in header and "the real one" in header
    assert 'content="https://example.com/card.png"' in site.page("2026/01/02/header")


def test_hidden_post_is_published_but_not_listed(site):
    png(site.posts / "images" / "h.png")
    (site.posts / "2020-03-01-visible.md").write_text(
        "---\ntitle: Visible\ncategories: [notes]\n---\n\nShown.\n", "utf-8"
    )
    (site.posts / "2020-03-02-hidden.md").write_text(
        "---\ntitle: Hidden one\nhide: true\ncategories: [notes]\n---\n\nSecret but public."
        "\n\n![h](images/h.png)\n",
        "utf-8",
    )
    config = site.root / "mkdocs.yml"
    config.write_text(
        config.read_text("utf-8").replace(
            "      posts_dir: posts\n", "      posts_dir: posts\n      fastpages_redirects: true\n"
        ),
        "utf-8",
    )
    result = site.build()
    assert "not included in the" not in result.stdout + result.stderr  # no nav note about it
    page = site.page("2020/03/02/hidden")
    assert "Secret but public." in page
    [src] = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert (site.public / "2020/03/02/hidden" / src).resolve().is_file()
    for listing in ("", "category/notes", "archive/2020"):
        assert "Visible" in site.page(listing) and "Hidden one" not in site.page(listing)
    assert "2020/03/02/hidden/" in (site.public / "notes/2020/03/02/hidden.html").read_text()


def test_quarto_figures_mermaid_and_excerpts(site):
    post = site.posts / "2024-02-01-diagrams"
    post.mkdir()
    png(post / "bear.png")
    (post / "index.qmd").write_text(
        "---\ntitle: Diagrams\n---\n\nThe opening paragraph, shown on the home page.\n\n"
        "Second paragraph, kept for the post.\n\n![Bear Detector 2022](bear.png)\n\n"
        "```{mermaid}\ngraph TD\n  A --> B\n```\n",
        "utf-8",
    )
    site.build()
    body = article(site, "2024/02/01/diagrams")
    figure = re.search(r"<figure>(.*?)</figure>", body, re.S)[1]
    assert "<img" in figure and "<figcaption>Bear Detector 2022</figcaption>" in figure
    src = re.search(r'src="([^"]+)"', figure)[1]
    assert (site.public / "2024/02/01/diagrams" / src).resolve().is_file()
    assert '<pre class="mermaid"><code>graph TD' in body
    home = site.page("")
    assert "The opening paragraph, shown on the home page." in home
    assert "Second paragraph" not in home


def test_quarto_link_to_a_post_folder(site):
    links = (("lecture-1", "[next](../lecture-2)"), ("lecture-2", "[back](../lecture-1/)"))
    for name, text in links:
        (site.posts / name).mkdir()
        (site.posts / name / "index.qmd").write_text(
            f"---\ntitle: {name}\ndate: 2024-01-0{name[-1]}\n---\n\n{text}\n", "utf-8"
        )
    site.build()
    assert 'href="../../02/lecture-2/"' in article(site, "2024/01/01/lecture-1")
    assert 'href="../../01/lecture-1/"' in article(site, "2024/01/02/lecture-2")


def test_second_round_of_real_blog_constructs(site):
    """What a second look at real migrated blogs found: diagrams in notebook cells, iframes
    at fastpages' depth, Bokeh plots, captions holding links, escapes in Markdown posts."""
    (site.posts / "images").mkdir()
    (site.posts / "images" / "graph.html").write_text("<p>an interactive graph</p>", "utf-8")
    bokeh = new_output(
        "display_data",
        data={
            "text/html": '<div class="bk-root" id="abc"></div>',
            "application/vnd.bokehjs_exec.v0+json": "",
            "application/javascript": "embed()",
        },
        metadata={"application/vnd.bokehjs_exec.v0+json": {"id": "abc"}},
    )
    load = new_output(
        "display_data",
        data={"application/vnd.bokehjs_load.v0+json": "", "application/javascript": "load()"},
    )
    nb = notebook(
        new_markdown_cell("```{mermaid}\ngraph TD\n  A --> B\n```"),
        new_markdown_cell('<iframe src="../../../images/graph.html" width="100%"></iframe>'),
        new_code_cell("output_notebook()", outputs=[load]),
        new_code_cell("show(p)", outputs=[bokeh]),
    )
    write_nb(site.posts / "2020-11-01-interactive.ipynb", nb)
    post = site.posts / "2021-01-01-figs"
    post.mkdir()
    png(post / "f.png")
    (post / "index.md").write_text(
        '---\ntitle: Figs\n---\n\nI\\\'d say \\"so\\".\n\n'
        "![A figure from [the paper](https://example.com)](f.png)\n",
        "utf-8",
    )
    site.build()
    body = article(site, "2020/11/01/interactive")
    assert '<pre class="mermaid"><code>graph TD' in body
    src = re.search(r'<iframe src="([^"]+)"', body)[1]
    assert (site.public / "2020/11/01/interactive" / src).resolve().is_file()
    assert "Interactive Bokeh plot" in body and "bk-root" not in body
    figs = article(site, "2021/01/01/figs")
    assert 'I\'d say "so".' in figs.replace("&quot;", '"').replace("&#39;", "'")
    caption = re.search(r"<figcaption>(.*?)</figcaption>", figs, re.S)[1]
    assert '<a href="https://example.com">the paper</a>' in caption
    assert 'alt="A figure from the paper"' in figs


def test_excerpt_of_a_post_that_opens_with_a_heading(site):
    """A notebook whose first cell is "## Introduction" then prose: the post list shows that
    prose (under its heading), not an empty excerpt; the post itself is unchanged."""
    write_nb(
        site.posts / "2024-03-01-bears.ipynb",
        notebook(
            new_markdown_cell("## Introduction\n\nWe train a bear classifier from photos."),
            new_markdown_cell("## Data\n\nThe photos come from a search engine."),
            header='# "Bears"',
        ),
    )
    site.build()
    home = site.page("")
    assert "We train a bear classifier from photos." in home
    assert "The photos come from a search engine." not in home
    body = article(site, "2024/03/01/bears")
    assert body.index("Introduction") < body.index("We train") < body.index("The photos")
