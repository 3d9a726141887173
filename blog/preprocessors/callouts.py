"""Apply the fastpages call-out and embed shortcuts (blog.callouts) to every Markdown cell."""

from nbconvert.preprocessors import Preprocessor

from ..callouts import convert_callouts


class CalloutPreprocessor(Preprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = convert_callouts(cell.source)
        return cell, resources
