import pytest

from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_see_the_dashboard(page, alice):
    login_in_browser(page, alice.email)
    assert page.get_by_role("heading", name="Hello, Alice").is_visible()
