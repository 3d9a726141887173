"""Real `mkdocs build --strict` runs of the project's own site config in tmp_path."""

import re
import xml.etree.ElementTree as ET

import pytest
from blog_helpers import PNG_1PX, new_code_cell, new_markdown_cell, new_output, notebook, write_nb

pytestmark = pytest.mark.slow


def feature_notebook():
    return notebook(
        new_markdown_cell(
            "Intro with math $a_i + b_i$ and\n\n$$\\sum_{i=1}^n x_i$$\n\n"
            "> Warning: mind the learning rate."
        ),
        new_code_cell("#hide\nSECRET_SETUP = 1"),
        new_code_cell(
            "#collapse-hide\nFOLDED_CODE = 2",
            outputs=[new_output("stream", name="stdout", text="folded output\n")],
        ),
        new_code_cell(
            "#hide_input\nHIDDEN_INPUT = 3",
            outputs=[new_output("stream", name="stdout", text="visible result\n")],
        ),
        new_code_cell(
            "plot()",
            outputs=[
                new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})
            ],
        ),
        header='# "Is it a bear?"\n> "A classifier"\n\n- categories: [vision]',
    )


def test_notebook_post_end_to_end(site):
    write_nb(site.posts / "2026-03-04-bears.ipynb", feature_notebook())
    site.build()
    page = site.page("2026/03/04/bears")
    article = page[page.index("<article") : page.index("</article>")]
    assert "Is it a bear?" in article
    for hidden in ("SECRET_SETUP", "HIDDEN_INPUT", "#hide", "#collapse", "#hide_input"):
        assert hidden not in article
    assert "visible result" in article
    details = re.search(r"<details class=\"code\">(.*?)</details>", article, re.S)
    assert details and "FOLDED_CODE" in details.group(1)
    assert 'class="admonition warning"' in article
    assert '<span class="arithmatex">\\(a_i + b_i\\)</span>' in article  # no <em> from the _
    [src] = re.findall(r'<img alt="png" src="([^"]+)"', article)
    image = (site.public / "2026/03/04/bears" / src).resolve()
    assert image.is_file() and image.read_bytes().startswith(b"\x89PNG")
    # The feed and the category page list the post.
    feed = ET.parse(site.public / "feed_rss_created.xml").getroot()
    links = [item.findtext("link") for item in feed.iter("item")]
    assert "https://jane.github.io/blog/2026/03/04/bears/" in links
    assert "2026/03/04/bears/" in site.page("category/vision")
    assert "Is it a bear?" in site.page("")  # the home page lists it
    assert 'property="og:image"' in page


def test_markdown_post_draft_and_alias(site):
    (site.posts / "2026-01-02-hello.md").write_text(
        "---\ntitle: Hello\naliases: [/old/hello.html]\n---\n\nFirst post.\n", "utf-8"
    )
    (site.posts / "2026-01-03-wip.md").write_text(
        "---\ntitle: Work in progress\ndraft: true\n---\n\nNot yet.\n", "utf-8"
    )
    site.build()
    assert "First post." in site.page("2026/01/02/hello")
    assert not (site.public / "2026/01/03/wip").exists()  # drafts are left out of builds
    assert "Work in progress" not in site.page("")
    redirect = (site.public / "old/hello.html").read_text("utf-8")
    assert "url=/blog/2026/01/02/hello/" in redirect


def test_nothing_written_to_posts_or_docs(site):
    write_nb(site.posts / "2026-03-04-bears.ipynb", feature_notebook())
    before = sorted(
        p for p in site.root.rglob("*") if "public" not in p.parts and ".cache" not in p.parts
    )
    site.build()
    after = sorted(
        p for p in site.root.rglob("*") if "public" not in p.parts and ".cache" not in p.parts
    )
    assert before == after


def test_cache_skips_unchanged_posts(site):
    path = write_nb(site.posts / "2026-03-04-bears.ipynb", feature_notebook())
    site.build()
    [entry] = [p for p in (site.root / ".cache/blog").iterdir() if p.is_dir()]
    page = entry / "2026-03-04-bears.md"
    # Mark the cached page: if the next build converted again, the mark would be gone.
    page.write_text(page.read_text("utf-8") + "\nCACHED-MARK\n", "utf-8")
    site.build()
    assert "CACHED-MARK" in site.page("2026/03/04/bears")
    nb = feature_notebook()
    nb.cells.append(new_markdown_cell("An edit."))
    write_nb(path, nb)
    site.build()
    html = site.page("2026/03/04/bears")
    assert "An edit." in html and "CACHED-MARK" not in html
    assert not entry.exists()  # the stale entry was pruned
    # A damaged entry (its page gone, e.g. an interrupted prune) is converted again.
    [entry] = [p for p in (site.root / ".cache/blog").iterdir() if p.is_dir()]
    (entry / "2026-03-04-bears.md").unlink()
    site.build()
    assert "An edit." in site.page("2026/03/04/bears")


def test_project_site_url(site):
    (site.posts / "2026-01-02-hello.md").write_text("---\ntitle: Hello\n---\n\nHi.\n", "utf-8")
    site.build()
    home = site.page("")
    assert 'href="assets/stylesheets/blog.css"' in home  # relative: works under /blog/
    not_found = (site.public / "404.html").read_text("utf-8")
    assert 'href="/blog/assets/stylesheets/blog.css"' in not_found  # 404 pages need the prefix
    feed = (site.public / "feed_rss_created.xml").read_text("utf-8")
    assert "https://jane.github.io/blog/2026/01/02/hello/" in feed


# --- errors stop the build and name the file ---------------------------------------------


def failing_build(site):
    result = site.build(check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_broken_post_fails_build_with_its_name(site):
    (site.posts / "2026-01-02-hello.md").write_text("---\ntitle: Hello\n---\n\nHi.\n", "utf-8")
    (site.posts / "2026-01-05-broken.ipynb").write_text("{not json", "utf-8")
    (site.posts / "2026-01-06-typo.md").write_text("---\ntitle: T\ntags: a: b\n---\n", "utf-8")
    out = failing_build(site)
    assert "2 problems in the posts" in out
    assert "2026-01-05-broken.ipynb: is not valid JSON" in out
    assert "2026-01-06-typo.md: the front matter is not valid YAML" in out
    assert "Traceback" not in out


def test_duplicate_addresses(site):
    # The same slug on two dates is two addresses; the same date and slug is one.
    (site.posts / "2026-01-02-hello.md").write_text("---\ntitle: A\n---\n\nA.\n", "utf-8")
    (site.posts / "2026-02-02-hello.md").write_text("---\ntitle: B\n---\n\nB.\n", "utf-8")
    site.build()
    (site.posts / "2026-01-02-other.md").write_text(
        "---\ntitle: C\nslug: hello\n---\n\nC.\n", "utf-8"
    )
    out = failing_build(site)
    assert "same date and slug `hello`" in out and "2026-01-02-hello.md" in out


@pytest.mark.parametrize(
    ("alias", "why"), [("../escape.html", "outside the site"), ("about", "already a page")]
)
def test_aliases_never_escape_or_replace_pages(site, alias, why):
    (site.posts / "2026-01-02-hello.md").write_text(
        f"---\ntitle: Hello\naliases: [{alias}]\n---\n\nHi.\n", "utf-8"
    )
    out = failing_build(site)
    assert why in out and "2026-01-02-hello.md" in out
    assert not (site.root / "escape.html").exists()


def test_pinned_post_first_and_search_exclude(site):
    (site.posts / "2026-01-01-old.md").write_text(
        "---\ntitle: Old but pinned\npin: true\n---\n\nPinned.\n", "utf-8"
    )
    (site.posts / "2026-02-01-new.md").write_text(
        "---\ntitle: Newer post\nsearch_exclude: true\n---\n\nSECRETWORD here.\n", "utf-8"
    )
    site.build()
    home = site.page("")
    assert home.index("Old but pinned") < home.index("Newer post")
    index = (site.public / "search/search_index.json").read_text("utf-8")
    assert "Pinned." in index and "SECRETWORD" not in index


def test_building_the_site_never_imports_torch_or_gradio(site, tmp_path):
    # The Pages workflow installs only the `site` extra: the blog must not need the others.
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom mkdocs.__main__ import cli\n"
        "cli(['build', '--strict', '--quiet'], standalone_mode=False)\n"
        "heavy = sorted(m for m in ('torch', 'gradio', 'onnxruntime', 'training', 'demos')"
        " if m in sys.modules)\nprint('HEAVY', heavy)\n"
        "print('NBCONVERT', 'nbconvert' in sys.modules)\n",
        "utf-8",
    )
    write_nb(site.posts / "2026-01-02-hello.ipynb", feature_notebook())
    out = subprocess.run(
        [sys.executable, str(probe)], cwd=site.root, capture_output=True, text=True, timeout=300
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
    assert "NBCONVERT True" in out.stdout  # the first build converts the notebook
    # A build whose posts are all cached doesn't even import nbconvert (~0.3 s saved).
    out = subprocess.run(
        [sys.executable, str(probe)], cwd=site.root, capture_output=True, text=True, timeout=300
    )
    assert "NBCONVERT False" in out.stdout, out.stdout + out.stderr
