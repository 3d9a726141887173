"""Widgets, progress bars, Vega-Lite and Plotly outputs (blog.preprocessors.widgets), and the
registry of the scripts they need (blog.richjs)."""

from __future__ import annotations

import copy
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from blog_helpers import ROOT, make_site, new_code_cell, new_output, notebook, write_nb
from nbformat import NotebookNode

from blog import richjs
from blog.convert import TEMPLATES
from blog.preprocessors import DirectivePreprocessor, OutputPreprocessor
from blog.preprocessors.widgets import (
    WIDGET_NOTE,
    WIDGET_STATE,
    WIDGET_VIEW,
    WidgetPreprocessor,
)

NODE_MODULES = ROOT / "node_modules"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# --- widget state, as ipywidgets 8 saves it (defaults left out, as its embed feature does) ----


def _model(name, module="@jupyter-widgets/controls", **state):
    return {
        "model_name": name,
        "model_module": module,
        "model_module_version": "2.0.0",
        "state": state,
    }


def _layout():
    return _model("LayoutModel", "@jupyter-widgets/base")


def slider_models(prefix="s", value=5):
    return {
        f"{prefix}-slider": _model(
            "IntSliderModel",
            description="n",
            max=10,
            value=value,
            layout=f"IPY_MODEL_{prefix}-layout",
            style=f"IPY_MODEL_{prefix}-style",
        ),
        f"{prefix}-layout": _layout(),
        f"{prefix}-style": _model("SliderStyleModel", description_width=""),
    }


def tqdm_models(prefix="t"):
    """tqdm.notebook's bar: an HBox of HTML, FloatProgress, HTML."""
    return {
        f"{prefix}-box": _model(
            "HBoxModel",
            layout=f"IPY_MODEL_{prefix}-l0",
            children=[
                f"IPY_MODEL_{prefix}-desc",
                f"IPY_MODEL_{prefix}-bar",
                f"IPY_MODEL_{prefix}-meter",
            ],
        ),
        f"{prefix}-desc": _model("HTMLModel", value="Epoch 1", layout=f"IPY_MODEL_{prefix}-l1"),
        f"{prefix}-bar": _model(
            "FloatProgressModel",
            value=10.0,
            max=10.0,
            bar_style="success",
            layout=f"IPY_MODEL_{prefix}-l2",
        ),
        f"{prefix}-meter": _model(
            "HTMLModel", value=" 10/10 [00:00&lt;00:00, 99.1it/s]", layout=f"IPY_MODEL_{prefix}-l3"
        ),
        **{f"{prefix}-l{i}": _layout() for i in range(4)},
    }


def with_state(nb, models):
    nb.metadata["widgets"] = {
        WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": models}
    }
    return nb


def view(model_id, text):
    return new_output(
        "display_data",
        data={
            WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": model_id},
            "text/plain": text,
        },
    )


TQDM_REPR = "Epoch 1: 100%|##########| 10/10 [00:00<00:00, 99.1it/s]"
TQDM_REPR_7 = "HBox(children=(HTML(value=''), FloatProgress(value=0.0, max=10.0), HTML(value='')))"
SLIDER_REPR = "IntSlider(value=5, description='n', max=10)"


def run(nb, **traits):
    nb = copy.deepcopy(nb)
    nb, resources = WidgetPreprocessor(**traits).preprocess(nb, {})
    return nb, resources


def outputs(nb):
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def one_html(nb):
    (out,) = outputs(nb)
    assert list(out.data) == ["text/html"]
    return out.data["text/html"]


def script_json(page, mime):
    """The JSON in every <script type=mime> of the page."""
    found = re.findall(rf'<script type="{re.escape(mime)}">(.*?)</script>', page, re.S)
    return [json.loads(text) for text in found]


# --- progress bars -------------------------------------------------------------------------


def test_tqdm_bar_with_saved_state_leaves_nothing():
    nb = with_state(
        notebook(
            new_code_cell(
                "for _ in tqdm(range(10)): pass",
                outputs=[
                    view("t-box", TQDM_REPR),
                    new_output("stream", name="stdout", text="done\n"),
                ],
            )
        ),
        tqdm_models(),
    )
    nb, resources = run(nb)
    (out,) = outputs(nb)
    assert out.output_type == "stream"
    assert resources["blog_requires"] == set()
    assert resources["blog_widget_state"] is None


@pytest.mark.parametrize(
    "text",
    [
        TQDM_REPR,
        TQDM_REPR_7,
        "17it [00:01,  9.80it/s]",
        "IntProgress(value=3, max=5)",
        "VBox(children=(IntProgress(value=0, max=5), HTML(value='')))",
    ],
)
def test_progress_bar_without_state_leaves_nothing(text):
    nb = notebook(new_code_cell("learn.fit(1)", outputs=[view("gone", text)]))
    nb, resources = run(nb)
    assert outputs(nb) == []
    assert resources["blog_requires"] == set()


def test_progress_bar_known_by_state_whatever_its_repr():
    # Only the saved state says it's a progress bar: the repr is tqdm's custom one, cut.
    nb = with_state(notebook(new_code_cell("x", outputs=[view("t-bar", "...")])), tqdm_models())
    assert outputs(run(nb)[0]) == []


# fastprogress >= 1.1 (fastcore's HTML) and 1.0 (f-strings), as fastai's learners leave them.
FASTPROGRESS_STYLE = (
    "<style>\n    progress { appearance: none; border: none; }\n"
    "    progress::-webkit-progress-bar { background: #e0e0e0; }\n</style>\n"
)
FASTPROGRESS_BAR = (
    '<div>\n  <progress max="5" value="5"></progress>\n  100.00% [5/5 00:10&lt;00:00]\n</div>\n'
)
FASTPROGRESS_BAR_10 = (
    "\n    <div>\n      <progress value='2' class='' max='5' style='width:300px;"
    " height:20px; vertical-align: middle;'></progress>\n"
    "      40.00% [2/5 00:04<00:06]\n    </div>\n    "
)
RESULTS = (
    '<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: left;">\n'
    "      <th>epoch</th>\n      <th>train_loss</th>\n    </tr>\n  </thead>\n  <tbody>\n"
    "    <tr>\n      <td>0</td>\n      <td>0.512</td>\n    </tr>\n  </tbody>\n</table><p>"
)


def html_output(page):
    return new_output(
        "display_data", data={"text/html": page, "text/plain": "<IPython.core.display.HTML object>"}
    )


@pytest.mark.parametrize(
    "page",
    [
        FASTPROGRESS_STYLE,
        FASTPROGRESS_BAR,
        FASTPROGRESS_BAR_10,
        f"<div>{FASTPROGRESS_BAR}{FASTPROGRESS_BAR_10}</div>",
        "<progress></progress> 0.00% [0/1 00:00<?]",
        "",
    ],
)
def test_fastprogress_html_bar_leaves_nothing(page):
    nb = notebook(new_code_cell("learn.lr_find()", outputs=[html_output(page)]))
    assert outputs(run(nb)[0]) == []


def test_fastai_results_table_stays_and_loses_its_bars():
    mid_training = f"<div>{FASTPROGRESS_BAR_10}<div>{RESULTS}</div>{FASTPROGRESS_BAR}</div>"
    nb = notebook(
        new_code_cell(
            "learn.fine_tune(1)",
            outputs=[
                html_output(FASTPROGRESS_STYLE),
                html_output(RESULTS),
                html_output(mid_training),
            ],
        )
    )
    nb, _ = run(nb)
    first, second = outputs(nb)
    assert first.data["text/html"] == RESULTS  # untouched
    assert "<progress" not in second.data["text/html"]
    assert "<td>0.512</td>" in second.data["text/html"]
    assert "00:04" not in second.data["text/html"]  # the bar's label went with it


def test_other_html_and_styles_stay():
    table = '<table class="dataframe"><tr><td>progress</td></tr></table>'
    style = "<style>.mine { color: red; }</style>"
    nb = notebook(new_code_cell("df", outputs=[html_output(table), html_output(style)]))
    nb, _ = run(nb)
    assert [o.data["text/html"] for o in outputs(nb)] == [table, style]


def test_empty_outputs_leave_no_box():
    nb = notebook(
        new_code_cell(
            "x",
            outputs=[
                new_output("display_data", data={"text/plain": ""}),
                new_output("display_data", data={"text/html": "  \n", "text/plain": "<HTML>"}),
                new_output("stream", name="stdout", text="\x1b[0m\n"),
                new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
            ],
        )
    )
    (out,) = outputs(run(nb)[0])
    assert out.data["text/plain"] == "42"


# --- widgets -------------------------------------------------------------------------------


def test_slider_with_state_becomes_a_view_and_the_state_goes_once_into_the_page():
    models = {**slider_models("a"), **slider_models("b", value=7), **tqdm_models()}
    nb = with_state(
        notebook(
            new_code_cell("interact(f, n=5)", outputs=[view("a-slider", SLIDER_REPR)]),
            new_code_cell("for _ in tqdm(x): pass", outputs=[view("t-box", TQDM_REPR)]),
            new_code_cell("b", outputs=[view("b-slider", SLIDER_REPR)]),
        ),
        models,
    )
    nb, resources = run(nb)
    first, second = (o.data["text/html"] for o in outputs(nb))
    assert resources["blog_requires"] == {"widgets"}
    page = first + second
    assert [v["model_id"] for v in script_json(page, WIDGET_VIEW)] == ["a-slider", "b-slider"]
    assert all(v["version_major"] == 2 for v in script_json(page, WIDGET_VIEW))
    (state,) = script_json(page, WIDGET_STATE)
    assert first.startswith(f'<script type="{WIDGET_STATE}">')
    # Only what the two sliders reach: no progress bar models.
    assert set(state["state"]) == set(slider_models("a")) | set(slider_models("b"))
    assert state["state"]["b-slider"]["state"]["value"] == 7
    assert state["version_major"] == 2
    assert resources["blog_widget_state"] == state
    assert "IntSlider(" not in page


def test_state_left_to_the_caller():
    nb = with_state(
        notebook(new_code_cell("s", outputs=[view("s-slider", SLIDER_REPR)])), slider_models()
    )
    nb, resources = run(nb, state_in_page=False)
    assert WIDGET_STATE not in one_html(nb)
    assert set(resources["blog_widget_state"]["state"]) == set(slider_models())


def test_slider_without_state_shows_the_note():
    nb = notebook(new_code_cell("interact(f, n=5)", outputs=[view("nope", SLIDER_REPR)]))
    nb, resources = run(nb)
    assert one_html(nb) == WIDGET_NOTE
    assert resources["blog_requires"] == set()
    assert resources["blog_widget_state"] is None


@pytest.mark.parametrize(
    "models",
    [
        # a library html-manager can't load on its own
        {"s-slider": _model("FigureModel", "bqplot")},
        # a model that the slider needs is missing from the state
        {k: v for k, v in slider_models().items() if k != "s-style"},
    ],
)
def test_widget_that_cannot_render_statically_shows_the_note(models):
    nb = with_state(notebook(new_code_cell("s", outputs=[view("s-slider", SLIDER_REPR)])), models)
    nb, resources = run(nb)
    assert one_html(nb) == WIDGET_NOTE
    assert resources["blog_widget_state"] is None


def test_widget_with_a_static_fallback_keeps_it():
    out = view("nope", "Map(...)")
    out.data["image/png"] = "iVBORw0KGgo="
    nb, _ = run(notebook(new_code_cell("m", outputs=[out])))
    (out,) = outputs(nb)
    assert set(out.data) == {"image/png", "text/plain"}


def test_hidden_output_never_carries_the_state():
    models = {**slider_models("a"), **slider_models("b")}
    hidden = new_code_cell("a", outputs=[view("a-slider", SLIDER_REPR)])
    hidden.metadata["blog"] = {"input": "show", "output": "hide"}
    nb = with_state(
        notebook(hidden, new_code_cell("b", outputs=[view("b-slider", SLIDER_REPR)])), models
    )
    nb, _ = run(nb)
    shown = nb.cells[-1].outputs[0].data["text/html"]
    (state,) = script_json(shown, WIDGET_STATE)
    assert set(state["state"]) == set(slider_models("b"))


def test_output_widget_reaches_the_widgets_inside_it():
    models = {
        **slider_models(),
        "out": _model(
            "OutputModel",
            "@jupyter-widgets/output",
            outputs=[
                {
                    "output_type": "display_data",
                    "data": {
                        WIDGET_VIEW: {
                            "version_major": 2,
                            "version_minor": 0,
                            "model_id": "s-slider",
                        }
                    },
                }
            ],
        ),
    }
    models["out"]["model_module_version"] = "1.0.0"
    nb = with_state(notebook(new_code_cell("o", outputs=[view("out", "Output()")])), models)
    _, resources = run(nb)
    assert set(resources["blog_widget_state"]["state"]) == {"out", *slider_models()}


def test_state_script_cannot_be_closed_by_a_value():
    models = slider_models()
    models["s-slider"]["state"]["description"] = "</script><script>alert(1)</script> & <!--"
    nb = with_state(notebook(new_code_cell("s", outputs=[view("s-slider", SLIDER_REPR)])), models)
    page = one_html(run(nb)[0])
    assert page.count("</script>") == 2 and "<!--" not in page
    (state,) = script_json(page, WIDGET_STATE)
    assert state["state"]["s-slider"]["state"]["description"].startswith("</script><script>")


# --- charts --------------------------------------------------------------------------------

VEGALITE_SPEC = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.20.1.json",
    "data": {"name": "data-1"},
    "mark": {"type": "bar"},
    "encoding": {
        "x": {"field": "a", "type": "nominal"},
        "y": {"field": "b", "type": "quantitative"},
    },
    "datasets": {"data-1": [{"a": "A", "b": 28}, {"a": "B", "b": 55}, {"a": "C", "b": 43}]},
}
VEGA_SPEC = {
    "$schema": "https://vega.github.io/schema/vega/v5.json",
    "width": 100,
    "height": 50,
    "marks": [
        {
            "type": "rect",
            "encode": {
                "enter": {
                    "x": {"value": 0},
                    "y": {"value": 0},
                    "width": {"value": 50},
                    "height": {"value": 20},
                    "fill": {"value": "steelblue"},
                }
            },
        }
    ],
}
PLOTLY_FIGURE = {
    "data": [{"type": "scatter", "x": [1, 2, 3], "y": [4, 1, float("nan")], "name": "a</script>"}],
    "layout": {"template": {"layout": {"font": {"color": "#2a3f5f"}}}},
    "config": {"plotlyServerURL": "https://plot.ly"},
}
PLOTLY_HTML = (
    '<div>  <div id="abc" class="plotly-graph-div" style="height:525px; width:100%;">'
    '</div><script type="text/javascript">require(["plotly"], function(Plotly) {'
    'Plotly.newPlot("abc", [], {}, {"responsive": true})});</script></div>'
)


def chart_output(mime, spec, **more):
    return new_output(
        "display_data", data={mime: spec, "text/plain": "<VegaLite 5 object>", **more}
    )


@pytest.mark.parametrize(
    ("mime", "spec", "mode"),
    [
        ("application/vnd.vegalite.v2+json", VEGALITE_SPEC, "vega-lite"),  # vega-lite 6 reads it
        ("application/vnd.vegalite.v3+json", VEGALITE_SPEC, "vega-lite"),
        ("application/vnd.vegalite.v4+json", VEGALITE_SPEC, "vega-lite"),
        ("application/vnd.vegalite.v5+json", VEGALITE_SPEC, "vega-lite"),
        ("application/vnd.vegalite.v6+json", VEGALITE_SPEC, "vega-lite"),
        ("application/vnd.vega.v5+json", VEGA_SPEC, "vega"),
    ],
)
def test_altair_and_vega_specs_become_vega_embed_containers(mime, spec, mode):
    nb = notebook(
        new_code_cell(
            "alt.Chart(df).mark_bar()",
            outputs=[chart_output(mime, spec, **{"image/png": "iVBORw0KGgo="})],
        )
    )
    nb, resources = run(nb)
    page = one_html(nb)
    assert page.startswith(f'<div class="nb-vega" data-mode="{mode}">')
    assert '<div class="vega-embed"></div>' in page
    assert script_json(page, "application/json") == [spec]
    assert resources["blog_requires"] == {"vega"}
    assert richjs.kinds_in(page) == {"vega"}


def test_too_old_vega_lite_is_left_to_its_fallback():
    nb = notebook(
        new_code_cell(
            "c", outputs=[chart_output("application/vnd.vegalite.v1+json", VEGALITE_SPEC)]
        )
    )
    nb, resources = run(nb)
    (out,) = outputs(nb)
    assert "application/vnd.vegalite.v1+json" in out.data
    assert resources["blog_requires"] == set()


def test_plotly_figure_prefers_the_json_over_plotly_html():
    nb = notebook(
        new_code_cell(
            "fig.show()",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "application/vnd.plotly.v1+json": PLOTLY_FIGURE,
                        "text/html": PLOTLY_HTML,
                    },
                )
            ],
        )
    )
    nb, resources = run(nb)
    page = one_html(nb)
    assert "require(" not in page and "</script><script" not in page.replace(
        '</script><div class="nb-plotly-plot">', ""
    )
    (figure,) = script_json(page, "application/json")
    assert figure["data"][0]["y"] == [4, 1, None]  # NaN would break JSON.parse
    assert figure["data"][0]["name"] == "a</script>"
    assert resources["blog_requires"] == {"plotly"}
    assert richjs.kinds_in(page) == {"plotly"}


# --- charts saved as HTML only (classic Jupyter, older Altair and Plotly) ------------------

FASTPAGES_NB = ROOT / "tests/fixtures/fastpages/_notebooks/2020-02-20-test.ipynb"


def fixture_altair_outputs():
    """The fixture's three Altair charts, saved by Altair 4's html renderer (its "universal"
    template: require.js or scripts from jsDelivr, the spec inline); text/html only."""
    nb = json.loads(FASTPAGES_NB.read_text("utf-8"))
    found = [
        NotebookNode(o)
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for o in cell.get("outputs", [])
        if "altair-viz" in "".join(o.get("data", {}).get("text/html", ""))
    ]
    assert len(found) == 3 and all("application/json" not in "".join(o.data) for o in found)
    return found


def spec_in_universal_template(page):
    """The spec, as the chart's script passes it: `})({spec}, {"mode": "vega-lite"});`."""
    args = page[page.rindex("  })(") + len("  })(") : page.rindex(");\n</script>")]
    spec, options = json.loads(f"[{args}]")
    assert options == {"mode": "vega-lite"}
    return spec


def test_altair_html_from_a_real_notebook_becomes_vega_embed_containers():
    saved = fixture_altair_outputs()
    nb = notebook(*(new_code_cell("alt.Chart(df)", outputs=[o]) for o in saved))
    nb, resources = run(nb)
    pages = [o.data["text/html"] for o in outputs(nb)]
    assert all(list(o.data) == ["text/html"] for o in outputs(nb))
    for page, before in zip(pages, saved, strict=True):
        assert page.startswith('<div class="nb-vega" data-mode="vega-lite">')
        spec = spec_in_universal_template("".join(before.data["text/html"]))
        assert script_json(page, "application/json") == [spec]
        assert spec["$schema"].endswith("/vega-lite/v4.8.1.json")
        # Nothing that loads a script: ours draw it.
        assert "cdn.jsdelivr" not in page and "require" not in page and "vegaEmbed" not in page
    assert len(script_json(pages[0], "application/json")[0]["datasets"]) == 1
    assert resources["blog_requires"] == {"vega"}
    assert richjs.kinds_in("".join(pages)) == {"vega"}


# Altair's other templates (altair/utils/html.py): "standard" (colab, kaggle, zeppelin, a
# saved page), here as Altair 5 writes it, and Altair 2's (vegalite/v2/html.py).
ALTAIR_STANDARD = """<!DOCTYPE html>
<html>
<head>
  <meta charset="UTF-8">
  <style>
    #vis.vega-embed {{
      width: 100%;
      display: flex;
    }}
  </style>
  <script type="text/javascript" src="https://cdn.jsdelivr.net/npm/vega@5"></script>
  <script type="text/javascript" src="https://cdn.jsdelivr.net/npm/vega-lite@5.20.1"></script>
  <script type="text/javascript" src="https://cdn.jsdelivr.net/npm/vega-embed@6"></script>
</head>
<body>
  <div id="vis"></div>
  <script>
    (function(vegaEmbed) {{
      var spec = {spec};
      var embedOpt = {options};

      function showError(el, error){{
          el.innerHTML = ('<div style="color:red;">'
                          + '<p>JavaScript Error: ' + error.message + '</p>'
                          + "<p>This usually means there's a typo in your chart specification. "
                          + "See the javascript console for the full traceback.</p>"
                          + '</div>');
          throw error;
      }}
      const el = document.getElementById('vis');
      vegaEmbed("#vis", spec, embedOpt)
        .catch(error => showError(el, error));
    }})(vegaEmbed);

  </script>
</body>
</html>"""
ALTAIR_2 = """
<!DOCTYPE html>
<html>
<head>
  <script src="https://cdn.jsdelivr.net/npm/vega@3"></script>
  <script src="https://cdn.jsdelivr.net/npm/vega-lite@2"></script>
  <script src="https://cdn.jsdelivr.net/npm/vega-embed@3"></script>
</head>
<body>
  <div id="vis"></div>
  <script type="text/javascript">
    var spec = {spec};
    var opt = {options};
    vegaEmbed("#vis", spec, opt);
  </script>
</body>
</html>
"""


def schema(spec, url):
    return {**spec, "$schema": url}


@pytest.mark.parametrize(
    ("template", "spec", "options", "mode"),
    [
        (ALTAIR_STANDARD, VEGALITE_SPEC, {"mode": "vega-lite"}, "vega-lite"),
        (ALTAIR_STANDARD, VEGA_SPEC, {"mode": "vega"}, "vega"),
        (ALTAIR_STANDARD, VEGA_SPEC, {}, "vega"),  # no mode: the $schema says
        # Vega-Lite 6 still compiles Altair 2's specs (legacy selections included).
        (
            ALTAIR_2,
            schema(VEGALITE_SPEC, "https://vega.github.io/schema/vega-lite/v2.6.0.json"),
            {"mode": "vega-lite", "actions": False},
            "vega-lite",
        ),
    ],
)
def test_altair_html_templates_become_containers(template, spec, options, mode):
    page = template.format(spec=json.dumps(spec), options=json.dumps(options))
    nb = notebook(new_code_cell("chart", outputs=[html_output(page)]))
    nb, resources = run(nb)
    box = one_html(nb)
    assert box.startswith(f'<div class="nb-vega" data-mode="{mode}">')
    assert script_json(box, "application/json") == [spec]
    assert resources["blog_requires"] == {"vega"}


# plotly.py's to_html(full_html=False) (plotly/io/_html.py), as its HTML renderers call it:
# 4.x-5.x "notebook" / "notebook_connected" / "kaggle" wrap the call in require(["plotly"]);
# 6.x loads plotly.js with a script tag (connected) or inlines it (include_plotlyjs=True).
# Their post script, verbatim (its doubled braces too).
PLOTLY_POST_SCRIPT = """.then(function(){

var gd = document.getElementById('{plot_id}');
var x = new MutationObserver(function (mutations, observer) {{
        var display = window.getComputedStyle(gd).display;
        if (!display || display === 'none') {{
            console.log([gd, 'removed!']);
            Plotly.purge(gd);
            observer.disconnect();
        }}
}});

// Listen for the removal of the full notebook cells
var notebookContainer = gd.closest('#notebook-container');
if (notebookContainer) {{
    x.observe(notebookContainer, {childList: true});
}}
                        })"""
PLOTLY_CDN = (
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.5/MathJax.js?config='
    'TeX-AMS-MML_SVG"></script><script type="text/javascript">if (window.MathJax && '
    "window.MathJax.Hub && window.MathJax.Hub.Config) {window.MathJax.Hub.Config({SVG: "
    '{font: "STIX-Web"}});}</script>                <script type="text/javascript">'
    "window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n        <script charset="
    '"utf-8" src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>'
)
# A stand-in for plotly.min.js (the real one is 3 to 5 MB): a call, brackets and quotes that
# must all be skipped.
FAKE_PLOTLY_JS = (
    "/**\n* plotly.js v2.35.2\n*/\n!function(t,e){var s='}])\"';"
    'Plotly.newPlot("x", [1, {"a": "]"}], {});' + "var n=[{}];" * 200_000 + "}();"
)


def plotly_json(value):
    # plotly.io.json.to_json_plotly escapes <, > and / so a string can't close the script.
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


def plotly_to_html(figure, div_id, version=5, load=""):
    script = (
        f'                if (document.getElementById("{div_id}")) {{                    '
        f'Plotly.newPlot(                        "{div_id}",                        '
        f"{plotly_json(figure['data'])},                        "
        f"{plotly_json(figure['layout'])},                        "
        f"{json.dumps(figure['config'])}                    )"
    )
    if "frames" in figure:
        script += (
            ".then(function(){\n                            Plotly.addFrames("
            f"'{div_id}', {plotly_json(figure['frames'])});\n                        }})"
        )
    script += PLOTLY_POST_SCRIPT.replace("{plot_id}", div_id) + "                }"
    if version == 5:
        return (
            f'<div>                        {load}    <div id="{div_id}" class="plotly-graph-'
            'div" style="height:525px; width:100%;"></div>            <script type="text/'
            'javascript">                require(["plotly"], function(Plotly) {         '
            f"           window.PLOTLYENV=window.PLOTLYENV || {{}};{script};               "
            " });            </script>        </div>"
        )
    return (
        f'<div style="height:525px; width:100%;">{load}    <div id="{div_id}" '
        'class="plotly-graph-div" style="height:100%; width:100%;"></div>            '
        f"<script>                window.PLOTLYENV=window.PLOTLYENV || {{}};{script};"
        "            </script>        </div>"
    )


PLOTLY_HTML_FIGURE = {
    "data": [
        {"type": "scatter", "x": [1, 2, 3], "y": [4, 1, None], "name": "a'b\"</script> {x} [y] `z`"}
    ],
    "layout": {"title": {"text": "it's (1) {2} [3]"}, "height": 400},
    "config": {"responsive": True},
    "frames": [{"name": "f1", "data": [{"y": [1, 2, 3]}]}],
}


def plotly_output(page):
    return new_output(
        "execute_result",
        execution_count=1,
        data={"text/html": page, "text/plain": "Figure({'data': [...]})"},
    )


@pytest.mark.parametrize(
    ("version", "load"),
    [
        (5, ""),  # notebook_connected (and notebook): plotly.js comes from require.js
        (6, PLOTLY_CDN),  # notebook_connected, colab, to_html(include_plotlyjs="cdn")
    ],
)
def test_plotly_html_becomes_a_plotly_container(version, load):
    page = plotly_to_html(PLOTLY_HTML_FIGURE, "2b3c4d5e-0000-4000-8000-0123456789ab", version, load)
    nb = notebook(new_code_cell("fig.show()", outputs=[plotly_output(page)]))
    nb, resources = run(nb)
    box = one_html(nb)
    assert box.startswith('<div class="nb-plotly">')
    assert script_json(box, "application/json") == [PLOTLY_HTML_FIGURE]
    assert "require" not in box and "cdn" not in box and "MutationObserver" not in box
    assert resources["blog_requires"] == {"plotly"}
    assert richjs.kinds_in(box) == {"plotly"}


def test_inlined_plotly_js_is_dropped_with_its_init_output():
    figure = {k: v for k, v in PLOTLY_HTML_FIGURE.items() if k != "frames"}
    inline = (
        f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>\n        "
        f"<script>{FAKE_PLOTLY_JS}</script>"
    )
    # plotly.py 4-5's notebook-init output (the "notebook" renderer's activate()): plotly.js
    # defined as a require.js module; and 6's: the bundle in a script.
    init_5 = (
        '<script type="text/javascript">\n        window.PlotlyConfig = {MathJaxConfig: '
        "'local'};\n        if (typeof require !== 'undefined') {\n        require.undef("
        "\"plotly\");\n        define('plotly', function(require, exports, module) {\n"
        f"            {FAKE_PLOTLY_JS}\n        }});\n        require(['plotly'], "
        "function(Plotly) {\n            window._Plotly = Plotly;\n        });\n        }"
        "\n        </script>\n        "
    )
    connected_5 = (
        '<script type="text/javascript">\nwindow.PlotlyConfig = {MathJaxConfig: '
        "'local'};\nif (typeof require !== 'undefined') {\nrequire.undef(\"plotly\");"
        "\nrequirejs.config({\n    paths: {\n        'plotly': ['https://cdn.plot.ly/"
        "plotly-2.35.2.min']\n    }\n});\n}\n</script>\n"
    )
    connected_6 = (
        "<script>\nwindow.PlotlyConfig = {MathJaxConfig: 'local'};\n</script>\n"
        '<script type="module">import "https://cdn.plot.ly/plotly-3.0.1.min"</script>'
    )
    nb = notebook(
        new_code_cell(
            "import plotly",
            outputs=[
                new_output("display_data", data={"text/html": init})
                for init in (init_5, connected_5, connected_6, inline)
            ],
        ),
        new_code_cell("fig", outputs=[plotly_output(plotly_to_html(figure, "f1", 6, inline))]),
    )
    nb, resources = run(nb)
    box = one_html(nb)  # the inits are gone
    assert len(box) < 2_000 and "plotly.js v2" not in box
    assert script_json(box, "application/json") == [figure]
    assert resources["blog_requires"] == {"plotly"}


def test_plotly_init_stays_for_a_figure_left_as_it_is():
    init = "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
    broken = plotly_to_html(PLOTLY_HTML_FIGURE, "f1", 6).replace('"responsive"', "responsive")
    nb = notebook(
        new_code_cell(
            "fig",
            outputs=[new_output("display_data", data={"text/html": init}), plotly_output(broken)],
        )
    )
    nb, resources = run(nb)
    assert [o.data["text/html"] for o in outputs(nb)] == [init, broken]
    assert resources["blog_requires"] == set()


def _first_altair_page():
    return "".join(fixture_altair_outputs()[2].data["text/html"])  # the small one


@pytest.mark.parametrize(
    "page",
    [
        # JavaScript that isn't JSON: an unquoted key, a trailing comma, a function
        _first_altair_page().replace('"config": {"view"', 'config: {"view"'),
        ALTAIR_STANDARD.format(spec='{"mark": "bar",}', options="{}"),
        plotly_to_html(PLOTLY_HTML_FIGURE, "f1").replace('"height":400', '"height":f()'),
        # cut short (an output truncated by hand), or brackets that don't pair
        _first_altair_page()[:-200] + "</script>",
        plotly_to_html(PLOTLY_HTML_FIGURE, "f1").replace('"height":400}', '"height":400]'),
        # the chart inside HTML of the user's own, which shows more than the chart
        f"<h3>Results</h3>{_first_altair_page()}",
        f"<table><tr><td>1</td></tr></table>{plotly_to_html(PLOTLY_HTML_FIGURE, 'f1')}",
        # a vega-lite v1 spec (Altair 1): today's vega-lite can't read it
        ALTAIR_2.format(
            spec=json.dumps(
                schema(VEGALITE_SPEC, "https://vega.github.io/schema/vega-lite/v1.json")
            ),
            options="{}",
        ),
        # a plotly figure whose script isn't plotly.py's, and two Altair charts in one output
        '<div id="p" class="plotly-graph-div"></div><script>draw("p")</script>',
        _first_altair_page() * 2,
    ],
)
def test_chart_html_that_cannot_be_read_back_is_left_untouched(page):
    nb = notebook(new_code_cell("chart", outputs=[html_output(page)]))
    before = copy.deepcopy(nb)
    nb, resources = run(nb)
    assert outputs(nb) == outputs(before)
    assert resources["blog_requires"] == set()


# --- through nbconvert, as the blog converts a post ---------------------------------------


def markdown(nb):
    from nbconvert.exporters import MarkdownExporter
    from traitlets.config import Config

    config = Config()
    config.MarkdownExporter.optimistic_validation = True
    exporter = MarkdownExporter(
        config=config, extra_template_basedirs=[str(TEMPLATES)], template_name="post"
    )
    exporter.register_preprocessor(DirectivePreprocessor(), enabled=True)
    exporter.register_preprocessor(WidgetPreprocessor(), enabled=True)  # before outputs
    exporter.register_preprocessor(OutputPreprocessor(), enabled=True)
    return exporter.from_notebook_node(copy.deepcopy(nb), resources={})


def test_post_markdown_has_views_state_note_and_charts():
    models = {**slider_models(), **tqdm_models()}
    nb = with_state(
        notebook(
            new_code_cell("for _ in tqdm(x): pass", outputs=[view("t-box", TQDM_REPR)]),
            new_code_cell("interact(f, n=5)", outputs=[view("s-slider", SLIDER_REPR)]),
            new_code_cell("#hide_output\ninteract(g)", outputs=[view("s-slider", SLIDER_REPR)]),
            new_code_cell("interact(h)", outputs=[view("gone", SLIDER_REPR)]),
            new_code_cell(
                "chart", outputs=[chart_output("application/vnd.vegalite.v5+json", VEGALITE_SPEC)]
            ),
            new_code_cell(
                "fig",
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "application/vnd.plotly.v1+json": PLOTLY_FIGURE,
                            "text/html": PLOTLY_HTML,
                        },
                    )
                ],
            ),
        ),
        models,
    )
    body, resources = markdown(nb)
    assert "IntSlider(" not in body and "HBox(" not in body and "100%|" not in body
    assert body.count(f'<script type="{WIDGET_STATE}">') == 1
    assert body.count(f'<script type="{WIDGET_VIEW}">') == 1
    assert body.count(WIDGET_NOTE) == 1
    assert resources["blog_requires"] == {"widgets", "vega", "plotly"}
    assert richjs.kinds_in(body) == {"widgets", "vega", "plotly"}
    # Each rich output sits in the template's raw-HTML box, on its own lines.
    assert '<div class="nb-output" markdown="0">\n<div class="nb-vega"' in body
    assert not re.search(r"```\w[^\n]*\n\s*```", body)  # no empty output box


def _site_markdown(body: str) -> str:
    """The page's HTML as the site's Markdown extensions (mkdocs.yml) make it."""
    import markdown
    from mkdocs.utils import yaml_load

    config = yaml_load((ROOT / "mkdocs.yml").read_text("utf-8"))
    names, options = [], {}
    for entry in config["markdown_extensions"]:
        name, opts = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
        names.append(name)
        options[name] = opts or {}
    return markdown.markdown(body, extensions=names, extension_configs=options)


def test_script_json_survives_markdown_in_folded_and_open_outputs():
    # A folded output's HTML goes through Markdown's inline patterns (it isn't a raw block
    # there): no emphasis, math, code or backslash escape may touch the JSON.
    tricky = (
        "a *b* _c_ $\\alpha$ \\\\ `x` [l](u) {: .c} </script> &amp; :+1: https://x.org "
        "www.y.com me@z.org"
    )
    spec = {**VEGALITE_SPEC, "title": tricky}
    models = slider_models()
    models["s-slider"]["state"]["description"] = tricky
    chart = new_code_cell(
        "#collapse-output\nc", outputs=[chart_output("application/vnd.vegalite.v5+json", spec)]
    )
    folded_widget = new_code_cell("#collapse-output\ns", outputs=[view("s-slider", SLIDER_REPR)])
    nb = with_state(
        notebook(
            chart,
            folded_widget,
            new_code_cell("c", outputs=[chart_output("application/vnd.vegalite.v5+json", spec)]),
        ),
        models,
    )
    page = _site_markdown(markdown(nb)[0])
    assert script_json(page, "application/json") == [spec, spec]
    (state,) = script_json(page, WIDGET_STATE)
    assert state["state"]["s-slider"]["state"]["description"] == tricky


# --- the registry --------------------------------------------------------------------------


def test_registry_versions_are_those_of_package_json():
    pinned = json.loads((ROOT / "package.json").read_text("utf-8"))["devDependencies"]
    for f in richjs.files(richjs.KINDS):
        assert pinned[f.package] == f.version, f.package


def test_scripts_in_order_local_and_cdn():
    local = richjs.scripts({"widgets", "plotly", "vega"}, "../../")
    assert [u.rsplit("/", 1)[-1] for u in local] == [
        "vega.min.js",
        "vega-lite.min.js",
        "vega-embed.min.js",
        "plotly.min.js",
        "embed.js",
    ]
    assert all(u.startswith("../../assets/vendor/") for u in local)
    assert richjs.scripts(["vega"], "/blog")[0] == "/blog/assets/vendor/vega-6.4.0/vega.min.js"
    cdn = richjs.scripts(["widgets"], None)
    assert cdn == [
        "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed.js"
    ]
    assert richjs.scripts([], None) == []
    with pytest.raises(ValueError, match="bokeh"):
        richjs.scripts(["bokeh"], None)
    # The fonts go next to embed.js (webpack finds them from its URL), but aren't scripts.
    widget_files = richjs.files(["widgets"])
    assert {Path(f.site_path).parent for f in widget_files} == {
        Path("assets/vendor/html-manager-1.0.15")
    }
    assert [f.script for f in widget_files].count(True) == 1


def test_init_js_draws_our_containers():
    for needle in (
        ".nb-vega",
        ".nb-plotly",
        "vegaEmbed",
        "Plotly.newPlot",
        ".vega-embed",
        ".nb-plotly-plot",
        "document$",
        "blogRenderRich",
    ):
        assert needle in richjs.INIT_JS


def test_vendor_files_are_in_node_modules(tmp_path):
    if not NODE_MODULES.is_dir():
        pytest.skip("node_modules is missing: run `npm ci`")
    kinds = set(richjs.KINDS)
    assert richjs.node_modules_ok(kinds, NODE_MODULES)
    embed = (NODE_MODULES / "@jupyter-widgets/html-manager/dist/embed.js").read_text("utf-8")
    # The standalone bundle: it renders on its own, without require.js (embed-amd.js needs it).
    assert "_jupyter_widget_embedder" in embed and "__jupyter_widgets_assets_path__" in embed
    for f in richjs.files(["widgets"]):
        if not f.script:
            assert f'"{Path(f.source).name}"' in embed  # the fonts it asks for
    copied = richjs.copy_files(kinds, NODE_MODULES, tmp_path)
    assert len(copied) == len(richjs.files(kinds))
    assert all((tmp_path / path).stat().st_size > 10_000 for path in copied)
    assert not richjs.node_modules_ok(kinds, tmp_path)
    with pytest.raises(FileNotFoundError, match="npm ci"):
        richjs.copy_files(["vega"], tmp_path / "none", tmp_path)


@pytest.mark.slow
def test_site_takes_widget_scripts_from_the_node_modules_setting(tmp_path):
    """The scripts come from the `node_modules` the plugin is set to, looked for next to
    mkdocs.yml and then in the template (as the demo pages' ONNX Runtime Web is): a site
    folder made elsewhere serves its own copies. A folder that isn't there means the CDN."""
    if not NODE_MODULES.is_dir():
        pytest.fail("node_modules is missing: run `npm ci` in the repository (make test does).")
    site = make_site(tmp_path)  # no node_modules beside its mkdocs.yml
    write_nb(
        site.posts / "2026-03-05-slider.ipynb",
        with_state(
            notebook(new_code_cell("slider", outputs=[view("s-slider", SLIDER_REPR)])),
            slider_models(),
        ),
    )
    [embed] = [f for f in richjs.files(["widgets"]) if f.script]
    site.build()
    page = site.page("2026/03/05/slider")
    assert f'{embed.site_path}"' in page
    assert "html-manager@" not in page  # not the CDN's copy
    copied = site.public / embed.site_path
    assert copied.read_bytes() == embed.node_path(NODE_MODULES).read_bytes()

    config = site.root / "mkdocs.yml"
    text = config.read_text("utf-8")
    config.write_text(
        text.replace(
            "      posts_dir: posts\n", "      posts_dir: posts\n      node_modules: nowhere\n"
        ),
        "utf-8",
    )
    assert "node_modules: nowhere" in config.read_text("utf-8")
    result = site.build()
    page = site.page("2026/03/05/slider")
    assert "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@" in page
    assert "run `npm ci` to serve them from the site" in result.stderr


# --- in a browser ------------------------------------------------------------------------


@pytest.fixture
def served_page(tmp_path):
    """A static page with a saved IntSlider, Altair charts and Plotly figures (each as its JSON
    mime type, and as the HTML its library saved), the scripts copied from node_modules, served
    on a free port by `python -m http.server`."""
    if not NODE_MODULES.is_dir():
        pytest.fail("node_modules is missing: run `npm ci` in the repository (make test does).")
    kinds = {"widgets", "vega", "plotly"}
    richjs.copy_files(kinds, NODE_MODULES, tmp_path)
    nb = with_state(
        notebook(
            new_code_cell("s", outputs=[view("s-slider", SLIDER_REPR)]),
            new_code_cell(
                "c", outputs=[chart_output("application/vnd.vegalite.v5+json", VEGALITE_SPEC)]
            ),
            new_code_cell(
                "f",
                outputs=[
                    new_output(
                        "display_data", data={"application/vnd.plotly.v1+json": PLOTLY_FIGURE}
                    )
                ],
            ),
            # Altair 4's HTML from a real notebook: its inline data and a selection bound to inputs.
            new_code_cell("alt.Chart(df)", outputs=[fixture_altair_outputs()[0]]),
            new_code_cell(
                "fig.show()",
                outputs=[plotly_output(plotly_to_html(PLOTLY_HTML_FIGURE, "html-figure", 5))],
            ),
        ),
        slider_models(),
    )
    nb, resources = run(nb)
    boxes = "\n".join(f'<div class="nb-output">{o.data["text/html"]}</div>' for o in outputs(nb))
    tags = "\n".join(
        f'<script src="{url}"></script>' for url in richjs.scripts(resources["blog_requires"], "")
    )
    (tmp_path / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>t</title></head><body>\n"
        f"{boxes}\n{tags}\n<script>{richjs.INIT_JS}</script>\n</body></html>",
        "utf-8",
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url, server, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError("http.server exited")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


@pytest.mark.browser
@pytest.mark.slow
def test_widgets_and_charts_render_in_chromium(served_page):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    errors: list[str] = []
    failed: list[str] = []
    outside: list[str] = []

    def local_only(route):
        # Everything comes from the site: a request to any other host is a failure.
        if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", local_only)
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.on("requestfailed", lambda req: failed.append(req.url))
            page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
            page.goto(served_page)
            page.locator(".widget-slider").first.wait_for(timeout=20_000)
            assert page.locator(".jupyter-widgets").count() >= 1
            assert page.locator(".widget-readout").first.inner_text().strip() == "5"
            page.locator(".nb-vega .vega-embed .marks").first.wait_for(timeout=20_000)
            page.locator(".nb-plotly .main-svg").first.wait_for(timeout=20_000)
            # Every chart drawn or failed: a drawn one loses its note, a failed one says so.
            page.wait_for_function(
                "[...document.querySelectorAll('.nb-rich-note')].every("
                "n => n.textContent.includes('could not'))",
                timeout=20_000,
            )
            notes = page.locator(".nb-rich-note").all_inner_texts()
            assert notes == []
            # Each chart in its own box: the one from Altair's HTML too, with its inputs.
            assert page.locator(".nb-vega").count() == 2
            for box in page.locator(".nb-vega").all():
                assert box.locator("canvas.marks, svg.marks").count() == 1
            assert page.locator(".nb-vega").nth(1).locator(".vega-bind select").count() == 1
            assert page.locator(".nb-plotly").count() == 2
            assert all(
                box.locator(".main-svg").count() >= 1 for box in page.locator(".nb-plotly").all()
            )
            # The frames of the figure from Plotly's HTML went to plotly.js with it.
            frames = page.evaluate(
                "document.querySelectorAll('.nb-plotly-plot')[1]._transitionData._frames.length"
            )
            assert frames == len(PLOTLY_HTML_FIGURE["frames"])
        finally:
            browser.close()
    assert outside == []
    assert errors == []
    assert [u for u in failed if not u.endswith("/favicon.ico")] == []


def test_outputs_are_notebook_nodes():
    nb = notebook(new_code_cell("s", outputs=[view("nope", SLIDER_REPR)]))
    (out,) = outputs(run(nb)[0])
    assert isinstance(out.data, NotebookNode)
