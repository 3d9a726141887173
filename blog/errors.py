"""The one error type of the converter: it names the file (and cell), the cause and the fix."""

from __future__ import annotations

from pathlib import Path


class PostError(Exception):
    """A post that can't be published as it is.

    The message reads ``posts/x.ipynb, cell 4: <what is wrong>. <what to do>.`` so the same text
    works in `python -m blog check`, in `mkdocs build --strict` and on the error page of
    `mkdocs serve`.
    """

    def __init__(self, path: str | Path, problem: str, fix: str = "", *, cell: int | None = None):
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        self.cell = cell
        super().__init__(str(self))

    def __str__(self) -> str:
        where = _display(self.path)
        if self.cell is not None:
            where += f", cell {self.cell}"
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" {self.fix}"
        return text


def _display(path: Path) -> str:
    """The path relative to the working directory when it is inside it (what users typed)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class PostErrors(PostError):
    """Every problem found in one post, so that one run reports them all at once."""

    def __init__(self, errors: list[PostError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.path, first.problem, first.fix, cell=first.cell)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def each_error(error: PostError) -> list[PostError]:
    """The single problems in an error (a PostErrors holds several)."""
    return list(error.errors) if isinstance(error, PostErrors) else [error]


class Problems:
    """Collects the problems of one post while its conversion goes on past them."""

    def __init__(self):
        self.errors: list[PostError] = []

    def run(self, function, *args, default=None, **kwargs):
        """``function(*args, **kwargs)``, or ``default`` after recording its PostError."""
        try:
            return function(*args, **kwargs)
        except PostError as err:
            self.errors.extend(each_error(err))
            return default

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise PostErrors(self.errors)
