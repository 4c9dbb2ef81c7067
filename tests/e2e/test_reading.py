"""A reader on the seeded content: from the home page to a side effect, and through search."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIDE_EFFECTS_TITLE = "Side Effects of Scalp Micropigmentation"
SIDE_EFFECTS_PATH = "/articles/side-effects-of-scalp-micropigmentation/"


@pytest.fixture
def seeded():
    call_command("seed_content", stdout=io.StringIO())


def test_reader_finds_closed_comments_after_jumping_to_a_side_effect(seeded, page, screenshot):
    page.goto("/")
    page.get_by_role("link", name=SIDE_EFFECTS_TITLE, exact=True).click()
    page.wait_for_url(f"**{SIDE_EFFECTS_PATH}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SIDE_EFFECTS_TITLE)

    at_a_glance = page.get_by_role("region", name="Side effects at a glance")
    at_a_glance.get_by_role("link", name="Blueness of the scalp", exact=True).click()
    page.wait_for_url(f"**{SIDE_EFFECTS_PATH}#blueness-of-the-scalp")
    section_heading = page.locator("#blueness-of-the-scalp")
    expect(section_heading).to_have_text("Blueness of the scalp")
    expect(section_heading).to_be_in_viewport()

    comments = page.locator("#comments")
    expect(comments).to_contain_text("Comments are closed.")
    expect(comments.locator("form")).to_have_count(0)
    expect(page.locator("textarea")).to_have_count(0)
    screenshot(page)


def test_reader_searches_for_blue_and_opens_the_side_effects_article(seeded, page, screenshot):
    page.goto("/")
    search_box = page.locator("header form input[name='q']")
    search_box.fill("blue")
    search_box.press("Enter")
    page.wait_for_url("**/search/?q=blue*")
    expect(page.locator("main")).to_contain_text(SIDE_EFFECTS_TITLE)
    screenshot(page, "results")

    page.locator("main").get_by_role("link", name=SIDE_EFFECTS_TITLE).first.click()
    page.wait_for_url(f"**{SIDE_EFFECTS_PATH}**")
    expect(page.get_by_role("heading", level=1)).to_have_text(SIDE_EFFECTS_TITLE)
    screenshot(page)
