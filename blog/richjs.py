"""What a page needs in the browser to show the rich outputs of `WidgetPreprocessor`.

Three kinds, named as in ``resources["blog_requires"]`` (and found again in a finished page by
:func:`kinds_in`):

* ``"widgets"``: ipywidgets with saved state, drawn by ``@jupyter-widgets/html-manager``'s
  standalone ``dist/embed.js`` (no require.js). On the window's ``load`` event it reads the
  ``application/vnd.jupyter.widget-state+json`` script of the page and replaces every
  ``application/vnd.jupyter.widget-view+json`` script with the widget. Its CSS is inside the
  bundle; Font Awesome's fonts (widget icons) are fetched from the folder the script was loaded
  from (webpack's public path), so they must sit next to it: :data:`KINDS` lists them.
* ``"vega"``: Altair / Vega-Lite / Vega charts, drawn by vega-embed (``vega``, ``vega-lite``
  and ``vega-embed`` UMD builds, loaded in that order: each one reads the globals of the last).
* ``"plotly"``: Plotly figures, drawn by plotly.js (``plotly.js-dist-min``).

Vega and Plotly containers are drawn by :data:`INIT_JS`, our small script, which must run
after the vendor scripts (inline it after them, or load it as a file after them).

How a plugin uses this::

    kinds = post_kinds  # resources["blog_requires"], or kinds_in(page_html)
    if node_modules_ok(kinds, root / "node_modules"):
        copy_files(kinds, root / "node_modules", site_dir)  # once per build
        urls = scripts(kinds, local_root="../../")  # the site root, seen from the page
    else:
        urls = scripts(kinds, local_root=None)  # the same pinned versions from jsDelivr
    html = "".join(f'<script src="{u}"></script>' for u in urls)
    html += f"<script>{INIT_JS}</script>"

The versions are those of package.json (the test suite checks that they agree).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CDN = "https://cdn.jsdelivr.net/npm"
VENDOR = "assets/vendor"  # site-relative folder the files are copied to


@dataclass(frozen=True)
class VendorFile:
    package: str  # npm package name
    version: str  # exact, pinned in package.json
    source: str  # path inside node_modules/<package>/
    site_path: str  # where it goes in the built site, relative to the site root
    script: bool = True  # loaded with <script>; False: fetched by a script (a font)

    @property
    def cdn_url(self) -> str:
        return f"{CDN}/{self.package}@{self.version}/{self.source}"

    def node_path(self, node_modules: Path) -> Path:
        return Path(node_modules) / self.package / self.source


_HTML_MANAGER = ("@jupyter-widgets/html-manager", "1.0.15")
# Font Awesome 5 (solid, regular, brands) in the names webpack gave them. Browsers take the
# first format they support from @font-face, woff2 for all current ones, so the .woff, .ttf,
# .eot and .svg copies in dist/ are never fetched.
_WIDGET_FONTS = (
    "1551f4f60c37af51121f.woff2",
    "7a3337626410ca2f4071.woff2",
    "d878b0a6a1144760244f.woff2",
)


def _widget_files() -> tuple[VendorFile, ...]:
    package, version = _HTML_MANAGER
    # One folder for the script and its fonts: embed.js finds them relative to its own URL.
    folder = f"{VENDOR}/html-manager-{version}"
    files = [VendorFile(package, version, "dist/embed.js", f"{folder}/embed.js")]
    files += [
        VendorFile(package, version, f"dist/{name}", f"{folder}/{name}", script=False)
        for name in _WIDGET_FONTS
    ]
    return tuple(files)


def _one(package: str, version: str, source: str) -> VendorFile:
    name = source.rsplit("/", 1)[-1]
    return VendorFile(package, version, source, f"{VENDOR}/{package}-{version}/{name}")


# kind -> its files, scripts in load order.
KINDS: dict[str, tuple[VendorFile, ...]] = {
    "widgets": _widget_files(),
    "vega": (
        _one("vega", "6.4.0", "build/vega.min.js"),
        _one("vega-lite", "6.5.0", "build/vega-lite.min.js"),
        _one("vega-embed", "7.3.0", "build/vega-embed.min.js"),
    ),
    "plotly": (_one("plotly.js-dist-min", "4.1.2", "plotly.min.js"),),
}
# Charts first, widgets last: a page loads them in this order whatever order it needs them in.
ORDER = ("vega", "plotly", "widgets")


def _ordered(kinds: Iterable[str]) -> list[str]:
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown rich-output kinds: {sorted(unknown)}; known: {list(ORDER)}")
    return [kind for kind in ORDER if kind in wanted]


def files(kinds: Iterable[str]) -> list[VendorFile]:
    """Every file the kinds need in the site (scripts and the files they fetch), in order."""
    return [f for kind in _ordered(kinds) for f in KINDS[kind]]


def scripts(kinds: Iterable[str], local_root: str | None) -> list[str]:
    """The script URLs to load, in order, for a page that needs `kinds`.

    `local_root` is the site root as the page sees it ("../../", "/blog/"): URLs of the files
    :func:`copy_files` put there. None: the CDN URLs of the same pinned versions.
    """
    chosen = [f for f in files(kinds) if f.script]
    if local_root is None:
        return [f.cdn_url for f in chosen]
    root = local_root if not local_root or local_root.endswith("/") else local_root + "/"
    return [root + f.site_path for f in chosen]


def node_modules_ok(kinds: Iterable[str], node_modules: str | Path) -> bool:
    """Whether `npm ci` left every file the kinds need (else use the CDN)."""
    return all(f.node_path(Path(node_modules)).is_file() for f in files(kinds))


def copy_files(kinds: Iterable[str], node_modules: str | Path, site_dir: str | Path) -> list[str]:
    """Copy the kinds' files from node_modules into the built site; returns their site paths.

    Raises FileNotFoundError naming the file and `npm ci` when node_modules lacks one."""
    copied = []
    for f in files(kinds):
        source = f.node_path(Path(node_modules))
        if not source.is_file():
            raise FileNotFoundError(
                f"{source} is missing: run `npm ci` in the repository (or load {f.cdn_url})."
            )
        target = Path(site_dir) / f.site_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(f.site_path)
    return copied


# What each kind leaves in a page's HTML (see blog/preprocessors/widgets.py).
MARKERS = {
    "widgets": 'type="application/vnd.jupyter.widget-view+json"',
    "vega": 'class="nb-vega"',
    "plotly": 'class="nb-plotly"',
}


def kinds_in(html: str) -> set[str]:
    """The kinds a converted page (Markdown or HTML) needs, read back from its markers: for a
    plugin that gets the page but not the conversion's resources (a cached post)."""
    return {kind for kind, marker in MARKERS.items() if marker in html}


# Draws our Vega and Plotly containers; runs after the vendor scripts. Idempotent, and exposed
# as window.blogRenderRich(root) for content added later. With Material's instant navigation
# (document$) it runs again on every page change.
INIT_JS = r"""(function () {
  "use strict";
  function spec(box) {
    var tag = box.querySelector('script[type="application/json"]');
    return tag ? JSON.parse(tag.textContent) : null;
  }
  function done(box) {
    var note = box.querySelector(".nb-rich-note");
    if (note) note.remove();
  }
  function failed(box, err) {
    if (err) console.error(err);
    var note = box.querySelector(".nb-rich-note");
    if (note) note.textContent = "This chart could not be drawn: its script did not load.";
  }
  function each(root, selector, draw) {
    root.querySelectorAll(selector + ":not([data-rendered])").forEach(function (box) {
      box.setAttribute("data-rendered", "");
      try {
        draw(box, spec(box)).then(function () { done(box); }, function (err) {
          failed(box, err);
        });
      } catch (err) {
        failed(box, err);
      }
    });
  }
  function render(root) {
    root = root || document;
    each(root, ".nb-vega", function (box, s) {
      var mode = box.getAttribute("data-mode") || "vega-lite";
      // No actions menu: it is a <details>, which the theme styles as a call-out box.
      var actions = false;
      return window.vegaEmbed(box.querySelector(".vega-embed"), s,
                              {mode: mode, actions: actions});
    });
    each(root, ".nb-plotly", function (box, fig) {
      var config = Object.assign({responsive: true, displaylogo: false}, fig.config || {});
      var figure = {data: fig.data || [], layout: fig.layout || {}, config: config};
      if (fig.frames) figure.frames = fig.frames;  // an animation's (plotly.py's addFrames)
      return window.Plotly.newPlot(box.querySelector(".nb-plotly-plot"), figure);
    });
  }
  window.blogRenderRich = render;
  function start() {
    render(document);
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(function () { render(document); });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
"""
