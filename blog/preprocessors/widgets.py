"""Rich outputs that need JavaScript: ipywidgets, Altair / Vega(-Lite) charts, Plotly figures.

Runs before OutputPreprocessor, which drops the widget mime types. For each shown output:

* progress bars (tqdm.notebook, fastprogress / fastai, any FloatProgress or IntProgress, alone
  or in an HBox / VBox) are removed, widget or HTML (`<progress>`), and so are
  fastprogress's `<style>` outputs; the parts of an HTML output that are not a progress bar
  (fastai's results table) stay;
* a widget whose models are all in the notebook's saved widget state, and all from
  ipywidgets' own modules, becomes what nbconvert's HTML exporter writes: a
  ``<script type="application/vnd.jupyter.widget-view+json">`` that html-manager's embed
  script replaces with the widget;
* another widget becomes a one-line note (or its own image / HTML fallback, when it has one);
* a Vega-Lite (v2 and later) or Vega (v5 and later) spec and a Plotly figure become a
  container with the spec in a ``<script type="application/json">``, which
  ``blog.richjs.INIT_JS`` draws;
* so do the charts of outputs that carry them only as HTML (classic Jupyter, older Altair and
  Plotly, Colab...), whose scripts would fetch vega / plotly.js from a CDN with require.js, or
  carry plotly.js inline: Altair's templates (a ``<div id>`` followed by the ``<script>`` that
  calls ``vegaEmbed`` with ``var spec = {...}`` or ``(function(spec, embedOpt){...})({...},
  {...})``) and plotly.py's (``<div id=X class="plotly-graph-div">`` and
  ``Plotly.newPlot("X", [data], {layout}, {config})``, or 3.x's ``Plotly.plot``, and
  ``Plotly.addFrames("X", [frames])``). The JSON is cut out of the script by bracket matching
  (strings and comments skipped) and must parse, and the HTML must hold nothing else to show;
  else the output stays as it is. Plotly's notebook-init outputs (plotly.js inline or a
  require.js config) go, unless a Plotly HTML figure was left unconverted;
* outputs left with nothing to show are removed, so they leave no empty box.

Results, in `resources`:

* ``blog_requires``: the set of kinds the page needs, named as in ``blog.richjs.KINDS``
  ("widgets", "vega", "plotly");
* ``blog_widget_state``: the widget state the views need (the notebook's saved state cut down
  to the models they reach, progress bars gone), or None. With ``state_in_page`` (the
  default), its ``<script type="application/vnd.jupyter.widget-state+json">`` also goes once
  into the page, at the start of the first widget's output, so the post template carries it
  with no change; html-manager finds it anywhere in the page.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PLOTLY = "application/vnd.plotly.v1+json"
_VEGA = re.compile(r"^application/vnd\.(vega|vegalite)\.v(\d+)\+json$")
# Older specs don't compile with today's vega(-lite). Vega-Lite 6 still reads Altair 2's v2
# specs (legacy selections included; a few options, like rangeStep, are ignored).
_VEGA_MIN = {"vega": 5, "vegalite": 2}

# The widget modules html-manager's embed.js bundles; a model from any other module (bqplot,
# ipyleaflet...) would make its whole state fail to load, so those widgets get the note.
BUILTIN_MODULES = frozenset(
    {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}
)
_PROGRESS_MODELS = frozenset({"FloatProgressModel", "IntProgressModel"})
_BOX_MODELS = frozenset({"HBoxModel", "VBoxModel", "BoxModel", "GridBoxModel"})
_REF = "IPY_MODEL_"

WIDGET_NOTE = (
    '<p class="nb-widget-note">Interactive widget: it needs a live Jupyter kernel, '
    "so it isn't shown here.</p>"
)
_CHART_NOTE = '<p class="nb-rich-note">Interactive chart: it needs JavaScript to show.</p>'

# The repr of a progress widget, or of a box holding one (ipywidgets 7 and 8).
_PROGRESS_REPR = re.compile(r"\b(?:Float|Int)Progress\(")
# tqdm.notebook's box shows its meter as its repr: "42%|####  | 42/100 [00:01<00:02, ...]",
# or "17it [00:01, 9.8it/s]" without a total.
_TQDM_METER = re.compile(
    r"\d+%\|.*\|\s*[\d.]+\w*/[\d.?]+\w*\s*\[|"
    r"(?:^|\s)[\d.]+\w* \[\d+:\d\d(?::\d\d)?[<,]"
)

# fastprogress: <div><progress ...></progress> label</div>, the label maybe holding a raw "<"
# ("00:10<00:00"); and its <style> block for progress elements.
_PROGRESS_DIV = re.compile(
    r"<div\b[^>]*>(?:(?!<div\b|</div>).)*?<progress\b.*?</progress>(?:(?!<div\b|</div>).)*?"
    r"</div>",
    re.S | re.I,
)
# A bare bar takes its label with it: the text up to the next tag.
_PROGRESS_TAG = re.compile(r"<progress\b.*?</progress>(?:[^<]|<(?![a-zA-Z/!]))*", re.S | re.I)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S | re.I)
_EMPTY_DIV = re.compile(r"<div\b[^>]*>\s*</div>", re.I)
_TAG = re.compile(r"<[^>]*>")
_VISIBLE_TAGS = re.compile(r"<(?:img|svg|table|iframe|video|audio|canvas|input|hr)\b", re.I)


class WidgetPreprocessor(Preprocessor):
    state_in_page = Bool(
        True,
        help="Put the widget state script in the page (in the first widget's output); "
        "else it is only in resources['blog_widget_state'], for the caller to place.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        models = _saved_models(nb)
        found = _Found()
        for cell in nb.cells:
            # Hidden outputs are never shown: nothing in them may carry the state script.
            if cell.cell_type != "code" or cell.metadata.get("blog", {}).get("output") == "hide":
                continue
            kept = []
            for output in cell.get("outputs", []):
                output = _convert(output, models, found)
                if output is not None:
                    kept.append(output)
            cell.outputs = kept
        state = None
        if found.models:
            state = {
                "version_major": 2,
                "version_minor": 0,
                "state": {mid: models[mid] for mid in sorted(found.models)},
            }
            if self.state_in_page:
                first = found.views[0].data
                first["text/html"] = state_script(state) + first["text/html"]
        if found.plotly_inits and not found.plotly_left:
            # Every Plotly figure draws with our plotly.js: its init (a multi-MB inline bundle,
            # or a require.js config) has nothing left to do.
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = [o for o in cell.outputs if id(o) not in found.plotly_inits]
        resources["blog_requires"] = set(resources.get("blog_requires") or ()) | found.kinds
        resources["blog_widget_state"] = state
        return nb, resources


class _Found:
    def __init__(self):
        self.kinds: set[str] = set()
        self.models: set[str] = set()  # model ids the rendered views reach
        self.views: list[Any] = []  # the outputs that became widget views, in page order
        self.plotly_inits: set[int] = set()  # ids of Plotly's notebook-init outputs
        self.plotly_left = False  # a Plotly HTML figure that could not be converted


def view_script(model_id: str) -> str:
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    return f'<script type="{WIDGET_VIEW}">{_script_json(view)}</script>'


def state_script(state: dict) -> str:
    return f'<script type="{WIDGET_STATE}">{_script_json(state)}</script>'


# Characters of JSON strings written as \u escapes, which JSON.parse reads back as themselves:
# <, > and & could end the <script> ("</script>", "<!--"); the others are Markdown (emphasis,
# code, links, arithmatex's $, attr_list's braces, backslash escapes, emoji's :name:,
# magiclink's https://, www. and mail@host), which Python-Markdown applies to HTML it doesn't
# take as a raw block (a folded output's, today).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_INERT = re.compile(r"\\\\|[<>&*_`$\[\]{}~^=:.@]")


def _script_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _JSON_STRING.sub(lambda s: _INERT.sub(_u_escape, s.group()), text)


def _u_escape(match) -> str:
    char = match.group()[-1]  # a backslash, from its escape "\\"
    return f"\\u{ord(char):04x}"


def _saved_models(nb) -> dict[str, dict]:
    """The notebook's saved widget models by id; {} when it has none, or a version
    html-manager 1.x can't read."""
    saved = nb.metadata.get("widgets", {}).get(WIDGET_STATE)
    if not isinstance(saved, dict) or saved.get("version_major") != 2:
        return {}
    state = saved.get("state")
    return state if isinstance(state, dict) else {}


def _convert(output, models: dict, found: _Found):
    """The output as the page shows it, or None to drop it."""
    kind = output.get("output_type")
    if kind == "stream":
        return output if strip_ansi(_text(output.get("text", ""))).strip() else None
    if kind not in ("display_data", "execute_result"):
        return output
    data = output.get("data", {})
    if WIDGET_VIEW in data:
        return _widget(output, models, found)
    vega = next((m for m in data if _is_vega(m)), None)
    if vega is not None:
        match = _VEGA.match(vega)
        assert match is not None  # `_is_vega` matched it
        mode = "vega" if match.group(1) == "vega" else "vega-lite"
        _replace(output, _vega_html(mode, data[vega]))
        found.kinds.add("vega")
    elif PLOTLY in data and isinstance(data[PLOTLY], dict):
        # Plotly's own text/html needs require.js: our container and init script instead.
        _replace(output, _plotly_html(data[PLOTLY]))
        found.kinds.add("plotly")
    elif "text/html" in data:
        page = _text(data["text/html"])
        chart = _html_chart(page)
        if chart is not None:
            _replace(output, chart[1])
            found.kinds.add(chart[0])
            return output
        if _plotly_divs(page):
            found.plotly_left = True  # a figure left as it is may need Plotly's init output
        elif _is_plotly_init(page):
            found.plotly_inits.add(id(output))  # dropped at the end, if no figure needs it
            return output
        shown = _without_progress(page)
        # The template shows text/html over the repr: blank HTML would be an empty box.
        if shown is None or not shown.strip():
            return None
        data["text/html"] = shown
    if all(_blank(value) for value in data.values()):
        return None
    return output


def _widget(output, models: dict, found: _Found):
    data = output.data
    view = data[WIDGET_VIEW]
    model_id = view.get("model_id") if isinstance(view, dict) else None
    text = _text(data.get("text/plain", ""))
    if (
        _is_progress(model_id, models, set())
        or _PROGRESS_REPR.search(text)
        or (_TQDM_METER.search(text))
    ):
        return None
    if isinstance(model_id, str) and (reached := _reach(model_id, models)) is not None:
        _replace(output, view_script(model_id))
        found.models |= reached
        found.views.append(output)
        found.kinds.add("widgets")
        return output
    data.pop(WIDGET_VIEW)
    data.pop(WIDGET_STATE, None)
    # A fallback a static page can show (an image, HTML) beats the note; the repr does not.
    if any(mime != "text/plain" and not _blank(value) for mime, value in data.items()):
        return output
    _replace(output, WIDGET_NOTE)
    return output


def _replace(output, page_html: str) -> None:
    # Only our HTML is left: nbconvert's Markdown template would pick an image or the repr
    # over it otherwise, and ExtractOutputPreprocessor would publish unused files.
    output.data = NotebookNode({"text/html": page_html})


def _is_progress(model_id, models: dict, seen: set) -> bool:
    """Whether the saved model is a progress bar, or a box with one in it."""
    model = models.get(model_id) if isinstance(model_id, str) else None
    if not isinstance(model, dict) or model_id in seen:
        return False
    seen.add(model_id)
    name = model.get("model_name")
    if name in _PROGRESS_MODELS:
        return True
    if name in _BOX_MODELS:
        children = model.get("state", {}).get("children") or []
        return any(_is_progress(_ref_id(c), models, seen) for c in children)
    return False


def _ref_id(value) -> str | None:
    return value[len(_REF) :] if isinstance(value, str) and value.startswith(_REF) else None


def _reach(model_id: str, models: dict) -> set[str] | None:
    """The ids of the models a view of `model_id` needs (its children, layouts, styles...);
    None when one is missing from the saved state or from a module embed.js doesn't have."""
    reached: set[str] = set()
    todo = [model_id]
    while todo:
        mid = todo.pop()
        if mid in reached:
            continue
        model = models.get(mid)
        if not isinstance(model, dict) or model.get("model_module") not in BUILTIN_MODULES:
            return None
        reached.add(mid)
        todo.extend(_refs(model.get("state", {})))
    return reached


def _refs(value):
    """Model ids referenced in a model's state: "IPY_MODEL_<id>" strings, and the widget
    views inside an Output widget's outputs."""
    if isinstance(value, str):
        ref = _ref_id(value)
        if ref:
            yield ref
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
    elif isinstance(value, dict):
        view = value.get(WIDGET_VIEW)
        if isinstance(view, dict) and isinstance(view.get("model_id"), str):
            yield view["model_id"]
        for item in value.values():
            yield from _refs(item)


def _is_vega(mime: str) -> bool:
    match = _VEGA.match(mime)
    return match is not None and int(match.group(2)) >= _VEGA_MIN[match.group(1)]


def _vega_html(mode: str, spec) -> str:
    return (
        f'<div class="nb-vega" data-mode="{mode}">'
        f'<script type="application/json">{_script_json(_finite(spec))}</script>'
        f'<div class="vega-embed"></div>{_CHART_NOTE}</div>'
    )


def _plotly_html(figure: dict) -> str:
    return (
        f'<div class="nb-plotly">'
        f'<script type="application/json">{_script_json(_finite(figure))}</script>'
        f'<div class="nb-plotly-plot"></div>{_CHART_NOTE}</div>'
    )


# --- charts saved as HTML only ---------------------------------------------------------

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
# Altair's templates: the chart's empty <div id=...> right before the script that draws it.
_DIV_SCRIPT = re.compile(
    r"<div\b[^>]*\bid=[\"'][^\"']+[\"'][^>]*>\s*</div>\s*"
    r"<script\b[^>]*>(.*?)</script\s*>",
    re.S | re.I,
)
# `var spec = {...}` (Altair 2, the standard and inline templates; `opt` in Altair 2).
_JS_VAR = re.compile(r"\b(?:var|let|const)\s+(spec|embedOpt|opt)\s*=\s*")
# The universal template (Altair >= 3's html renderer): (function(spec, embedOpt){...})(...).
_IIFE = re.compile(r"\(\s*function\s*\(\s*spec\s*,\s*embedOpt\s*\)\s*(?=\{)")
_SCHEMA = re.compile(r"/schema/(vega|vega-lite)/v(\d+)")
_PLOTLY_DIV = re.compile(r"<div\b[^>]*\bclass=[\"'][^\"']*\bplotly-graph-div\b[^>]*>", re.I)
_ID = re.compile(r"\bid=[\"']([^\"']+)[\"']")
_SEP = re.compile(r"\s*,\s*")
_CALL_START = re.compile(r"\s*\)\s*\(\s*")  # the end of a function expression, then "("
_CALL_END = re.compile(r"\s*\)")
# Plotly's notebook init: the PlotlyConfig global, plotly.js defined as a require.js module,
# or require.js pointed at the CDN (plotly.py 2 to 6).
_PLOTLY_INIT = re.compile(
    r"window\.PlotlyConfig\s*=|define\(\s*['\"]plotly['\"]|"
    r"['\"]plotly['\"]\s*:\s*\[\s*['\"]https://cdn\.plot\.ly/"
)

# JavaScript's strings ("", '', ``) and comments, which may hold any bracket, and brackets.
_JS_TOKEN = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\''
    r"|`[^`\\]*(?:\\.[^`\\]*)*`|//[^\n]*|/\*.*?\*/|[\[\](){}]",
    re.S,
)
_CLOSING = {"[": "]", "(": ")", "{": "}"}
_CLOSERS = frozenset(_CLOSING.values())


def _html_chart(page: str) -> tuple[str, str] | None:
    """(kind, our container) for an HTML output that is only an Altair chart or Plotly
    figures; None for any other HTML, or a chart whose JSON can't be read back."""
    if "vegaEmbed" not in page and "plotly-graph-div" not in page:
        return None  # the common case, cheaply
    if _shows_more_than_charts(page):
        return None  # the chart sits in HTML of the user's own: keep it all
    if "vegaEmbed" in page:
        chart = _altair_chart(page)
        return ("vega", _vega_html(*chart)) if chart else None
    figures = _plotly_figures(page)
    return ("plotly", "".join(map(_plotly_html, figures))) if figures else None


def _shows_more_than_charts(page: str) -> bool:
    rest = _STYLE.sub("", _SCRIPT.sub("", page))
    return bool(_VISIBLE_TAGS.search(rest)) or bool(html.unescape(_TAG.sub("", rest)).strip())


def _altair_chart(page: str) -> tuple[str, dict] | None:
    """(mode, spec) of the one chart Altair's HTML draws with vegaEmbed."""
    scripts = [s for s in _DIV_SCRIPT.findall(page) if "vegaEmbed" in s]
    if len(scripts) != 1:
        return None
    (script,) = scripts
    if call := _IIFE.search(script):
        # The spec and the options are the arguments the function is called with.
        body_end = _bracket_end(script, call.end())
        args = body_end and _CALL_START.match(script, body_end)
        values = _json_args(script, args.end()) if args else None
        spec, options = [*values, None][:2] if values else (None, None)
    else:
        named: dict[str, Any] = {}
        for var in _JS_VAR.finditer(script):
            value = _json_at(script, var.end())
            named.setdefault(
                "opt" if var.group(1) == "embedOpt" else var.group(1), value and value[0]
            )
        spec, options = named.get("spec"), named.get("opt")
    if not isinstance(spec, dict):
        return None
    schema = _SCHEMA.search(str(spec.get("$schema", "")))
    if schema and int(schema.group(2)) < _VEGA_MIN[schema.group(1).replace("-", "")]:
        return None  # too old for today's vega(-lite): the HTML is no worse
    mode = options.get("mode") if isinstance(options, dict) else None
    if mode not in ("vega", "vega-lite"):
        mode = schema.group(1) if schema else "vega-lite"
    return mode, spec


def _plotly_figures(page: str) -> list[dict] | None:
    """The figures of plotly.py's HTML, one per plotly-graph-div, in order."""
    figures = []
    for tag in _plotly_divs(page):
        div_id = _ID.search(tag)
        if not div_id:
            return None
        name = r"""\(\s*(["'])""" + re.escape(div_id.group(1)) + r"\1\s*,\s*"
        call = re.search(r"Plotly\.(?:newPlot|plot)" + name, page)
        args = _json_args(page, call.end()) if call else None
        if (
            not args
            or len(args) < 2
            or not isinstance(args[0], list)
            or not all(isinstance(a, dict) for a in args[1:])
        ):
            return None
        figure = {"data": args[0], "layout": args[1]}
        if len(args) > 2:
            figure["config"] = args[2]
        # Animations: plotly.py adds the frames after the plot, in a .then().
        if frames := re.search(r"Plotly\.addFrames" + name, page):
            value = _json_at(page, frames.end())
            if value is None or not isinstance(value[0], list):
                return None
            figure["frames"] = value[0]
        figures.append(figure)
    return figures or None


def _json_args(text: str, start: int) -> list | None:
    """The JSON arguments of a call, from `start` (after the ones skipped) to its ")"."""
    args = []
    while value := _json_at(text, start):
        args.append(value[0])
        if _CALL_END.match(text, value[1]):
            return args
        sep = _SEP.match(text, value[1])
        if not sep:
            return None
        start = sep.end()
    return None


def _json_at(text: str, start: int) -> tuple[Any, int] | None:
    """The JSON object or array that starts at `start`, and where it ends; None when there is
    none or it doesn't parse (a JavaScript literal that isn't JSON)."""
    if start >= len(text) or text[start] not in "[{":
        return None
    end = _bracket_end(text, start)
    if end is None:
        return None
    try:
        return json.loads(text[start:end]), end
    except ValueError:
        return None


def _bracket_end(text: str, start: int) -> int | None:
    """Where the bracket at `start` is closed (just past it), skipping strings and comments;
    None when it isn't closed or the brackets don't pair."""
    stack = []
    for token in _JS_TOKEN.finditer(text, start):
        bracket = token.group()
        if bracket in _CLOSING:
            stack.append(_CLOSING[bracket])
        elif bracket in _CLOSERS:
            if not stack or stack.pop() != bracket:
                return None
            if not stack:
                return token.end()
    return None


def _plotly_divs(page: str) -> list[str]:
    """The plotly-graph-div tags of the page (not those a script may hold as text)."""
    if "plotly-graph-div" not in page:
        return []
    return _PLOTLY_DIV.findall(_SCRIPT.sub("", page))


def _is_plotly_init(page: str) -> bool:
    return (
        bool(_PLOTLY_INIT.search(page))
        and not _plotly_divs(page)
        and not _shows_more_than_charts(page)
    )


def _finite(value):
    # Python's json writes NaN / Infinity, which JSON.parse rejects: null, as plotly.py does.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _without_progress(page: str) -> str | None:
    """HTML with fastprogress's bars and styles taken out; None when nothing else is left."""
    if "progress" not in page.lower():
        return page
    rest = _STYLE.sub(lambda m: "" if "progress" in m.group(1) else m.group(0), page)
    rest = _PROGRESS_DIV.sub("", rest)
    rest = _PROGRESS_TAG.sub("", rest)
    while _EMPTY_DIV.search(rest):
        rest = _EMPTY_DIV.sub("", rest)
    if rest == page:
        return page
    if not _VISIBLE_TAGS.search(rest) and not html.unescape(_TAG.sub("", rest)).strip():
        return None
    return rest.strip()


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _blank(value) -> bool:
    return isinstance(value, str | list) and not _text(value).strip()
