"""The article page fits a phone and a desktop screen."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def test_article_page_has_no_horizontal_scroll_on_a_phone_or_a_desktop(new_context, screenshot):
    call_command("seed_content", stdout=io.StringIO())
    for name, viewport in WIDTHS.items():
        page = new_context(viewport=viewport).new_page()
        page.goto("/articles/side-effects-of-scalp-micropigmentation/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        screenshot(page, name)
        assert scroll_width <= inner_width, f"{name}: the page is {scroll_width}px wide in {inner_width}px"
