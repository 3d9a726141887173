"""Outputs as a reader should see them: no stderr noise, no ANSI codes, widgets as text.

Also enforces the size limit on a single output, because a 20 MB plot pasted into a post makes
the page unusable and, in git, the repository heavy for good.
"""

from __future__ import annotations

import json

from nbconvert.filters import strip_ansi
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Int, Unicode

from ..errors import PostError

# Rich outputs a static page can't run; their text/plain (or HTML) fallback is shown instead.
BOKEH_PLOT = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD = "application/vnd.bokehjs_load.v0+json"
BOKEH_NOTE = (
    '<p class="nb-widget-note">Interactive Bokeh plot: it is drawn by Bokeh\'s '
    "JavaScript in a live notebook, so it isn't shown here.</p>"
)
_LIVE_ONLY = (
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)


class OutputPreprocessor(Preprocessor):
    show_stderr = Bool(False, help="Keep stderr (warnings, progress bars).").tag(config=True)
    max_output_kb = Int(2048, help="Largest single output, in KiB, before the post fails.").tag(
        config=True
    )
    path = Unicode("", help="The notebook's path, for error messages.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        kept = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                if output.get("name") == "stderr" and not self.show_stderr:
                    continue
                output["text"] = strip_ansi(output.get("text", ""))
            elif kind == "error":
                output["traceback"] = [strip_ansi(line) for line in output.get("traceback", [])]
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if BOKEH_PLOT in data:
                    # A Bokeh plot is an empty <div> that BokehJS fills in a live notebook.
                    output["data"] = {"text/html": BOKEH_NOTE}
                    self._check_size(output, cell.metadata.get("blog_cell", index + 1))
                    kept.append(output)
                    continue
                if BOKEH_LOAD in data:
                    continue  # output_notebook()'s loader: nothing to see
                for mime in _LIVE_ONLY:
                    data.pop(mime, None)
                if not data:
                    continue
                if "text/plain" in data:
                    data["text/plain"] = strip_ansi(data["text/plain"])
            self._check_size(output, cell.metadata.get("blog_cell", index + 1))
            kept.append(output)
        cell.outputs = kept
        return cell, resources

    def _check_size(self, output, index):
        size = len(json.dumps(output, ensure_ascii=False).encode("utf-8"))
        if size > self.max_output_kb * 1024:
            raise PostError(
                self.path,
                f"an output of {size / 1024 / 1024:.1f} MiB is over the "
                f"{self.max_output_kb / 1024:.1f} MiB limit.",
                "Make it smaller (a smaller figure, `df.head()`, fewer printed lines), hide it "
                "with `#hide_output`, or raise `max_output_kb` for the notebook-posts plugin "
                "in mkdocs.yml.",
                cell=index,
            )
