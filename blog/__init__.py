"""Turn notebooks and Markdown files in posts/ into blog posts.

Library first: :func:`convert` takes one post file and returns a :class:`Post`; the MkDocs
plugin (``blog.plugin``) and the CLI (``python -m blog``) are thin layers over it.
"""

from .convert import POST_SUFFIXES, Post, Settings, convert
from .errors import PostError

__all__ = ["POST_SUFFIXES", "Post", "PostError", "Settings", "convert"]
