"""A real fastpages blog moved in as the README says, with zero edits, builds strict and looks
as its authors saw it (the fastpages demo posts, vendored in tests/fixtures/fastpages)."""

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FASTPAGES = Path(__file__).resolve().parents[1] / "fixtures" / "fastpages"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    from blog_helpers import make_site

    site = make_site(tmp_path_factory.mktemp("fastpages"))
    # The README's recipe: the contents of _notebooks/ and _posts/ into posts/, images/ to
    # posts/images/. Nothing else is touched.
    for folder in ("_notebooks", "_posts"):
        shutil.copytree(FASTPAGES / folder, site.posts, dirs_exist_ok=True)
    shutil.copytree(FASTPAGES / "images", site.posts / "images")
    config = site.root / "mkdocs.yml"
    config.write_text(
        config.read_text("utf-8").replace(
            "      posts_dir: posts\n", "      posts_dir: posts\n      fastpages_redirects: true\n"
        ),
        "utf-8",
    )
    site.build()
    return site


def article(site, url):
    page = site.page(url)
    return page[page.index("<article") : page.index("</article>")]


def test_every_post_is_published(migrated):
    for url in (
        "2020/01/14/test-markdown-post",
        "2020/02/20/test",
        "2020/02/21/introducing-fastpages",
        "2020/03/06/fastpages-actions",
        "2020/09/01/fastcore",
        "2020/11/17/linkcheck",
        "2020/12/10/codespaces",
    ):
        assert (migrated.public / url / "index.html").is_file(), url
    # READMEs are not posts and don't become pages.
    assert not list(migrated.public.rglob("README*"))


def test_nothing_of_the_dialect_shows_as_raw_text(migrated):
    for page in migrated.public.glob("20*/**/index.html"):
        text = page.read_text("utf-8")
        body = text[text.index("<article") : text.index("</article>")]
        visible = re.sub(r"<(code|pre)\b.*?</\1>", "", body, flags=re.S)
        for raw in ("{%", "{{", "%}", "- toc:", "* toc:", "&lt;a href"):
            assert raw not in visible, (page, raw)


def test_liquid_tags_render(migrated):
    body = article(migrated, "2020/01/14/test-markdown-post")
    assert 'class="admonition warning"' in body and "You can include alert boxes" in body
    assert 'class="admonition info"' in body
    assert 'class="twitter-tweet"' in body
    assert re.search(r'<img[^>]+src="(\.\./)*images/logo\.png"', body)
    actions = article(migrated, "2020/03/06/fastpages-actions")
    assert "youtube-nocookie.com/embed/Ll50l3fsoYs" in actions
    assert "${{ secrets.pypi_password }}" in actions  # {% raw %} content stays verbatim
    assert "{% raw %}" not in actions
    codespaces = article(migrated, "2020/12/10/codespaces")
    assert "<video" in codespaces and "codespaces" in codespaces


def test_footnotes_and_links_in_notebooks(migrated):
    body = article(migrated, "2020/02/20/test")
    assert 'class="footnote"' in body and 'href="#fn:1"' in body
    assert 'href="https://www.github.com"' in body
    # The syntax shown in a code block stays as written.
    assert "{% fn 1 %}" in body


def test_images_in_fastpages_paths_load(migrated):
    for url in (
        "2020/03/06/fastpages-actions",
        "2020/02/20/test",
        "2020/09/01/fastcore",
        "2020/01/14/test-markdown-post",
    ):
        page_dir = migrated.public / url
        for src in re.findall(r'<img[^>]+src="([^"]+)"', article(migrated, url)):
            if src.startswith(("http", "data:")):
                continue
            assert (page_dir / src).resolve().is_file(), (url, src)
    # Folder names are kept (Material's blog plugin made fastpages_posts/ "fastpages_.").
    assert (migrated.public / "images/fastpages_posts/actions/pr_1.png").is_file()


def test_html_in_title_description_and_author(migrated):
    page = migrated.page("2020/03/06/fastpages-actions")
    assert '<a href="https://github.com/features/actions"' in article(
        migrated, "2020/03/06/fastpages-actions"
    )
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert "<a" not in title and "&lt;a" not in title
    fastcore = article(migrated, "2020/09/01/fastcore")
    assert '<a href="https://twitter.com/HamelHusain"' in fastcore
    home = migrated.page("")
    assert "&lt;a href" not in home


def test_table_of_contents_has_every_section(migrated):
    page = migrated.page("2020/02/20/test")
    toc = page[page.index('data-md-component="toc"') :]
    for anchor in ("about", "front-matter", "example-1-dropdown", "footnotes"):
        assert f'href="#{anchor}" class="md-nav__link"' in toc, anchor
    # The post's title is its one H1.
    assert len(re.findall(r"<h1\b", article(migrated, "2020/02/20/test"))) == 1


def test_old_addresses_redirect(migrated):
    old = migrated.public / "jupyter/2020/02/20/test.html"
    assert "2020/02/20/test/" in old.read_text("utf-8")
    assert (migrated.public / "markdown/2020/01/14/test-markdown-post.html").is_file()
    assert (migrated.public / "fastcore/index.html").is_file()  # its own permalink too
