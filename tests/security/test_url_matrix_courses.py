"""URL permission matrix rows for courses (see test_url_matrix.py)."""

import pytest

from .test_url_matrix import SPLIT, check_url, matrix_params, names_in


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(matrix_params(names_in(*SPLIT["courses"]))))
def test_url_permissions(name, world, home_page, settings):
    check_url(name, world, home_page, settings)
