import pytest
from blog_helpers import make_site


@pytest.fixture
def site(tmp_path):
    """A copy of the project's site with an empty posts/ folder, built with `site.build()`."""
    return make_site(tmp_path)
