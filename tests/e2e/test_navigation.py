"""A reader finds their way: from an article to its topic, to a related article, and through
an old link to an article that was renamed."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from articles.models import Article

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIDE_EFFECTS_PATH = "/articles/side-effects-of-scalp-micropigmentation/"
EXPLAINER_TITLE = "What is scalp micropigmentation?"


@pytest.fixture
def seeded():
    call_command("seed_content", stdout=io.StringIO())


def test_reader_goes_from_an_article_to_its_topic_and_on_to_a_related_article(seeded, page, screenshot):
    page.goto(SIDE_EFFECTS_PATH)
    page.locator(".article-topics").get_by_role("link", name="Side effects and aftercare").click()
    page.wait_for_url("**/topics/side-effects-and-aftercare/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Side effects and aftercare")
    expect(page.locator("main")).to_contain_text("Side Effects of Scalp Micropigmentation")
    screenshot(page, "topic")

    page.get_by_role("link", name="Side Effects of Scalp Micropigmentation").click()
    page.wait_for_url(f"**{SIDE_EFFECTS_PATH}")
    related = page.get_by_role("complementary", name="Related articles")
    related.get_by_role("link", name=EXPLAINER_TITLE).click()
    page.wait_for_url("**/articles/what-is-scalp-micropigmentation/")
    expect(page.get_by_role("heading", level=1)).to_have_text(EXPLAINER_TITLE)
    screenshot(page)


def test_an_old_link_to_a_side_effect_lands_on_the_renamed_article(seeded, page, new_context, screenshot):
    article = Article.objects.get(slug="side-effects-of-scalp-micropigmentation")
    page.goto(SIDE_EFFECTS_PATH)  # cached under its old address
    article.slug = "smp-side-effects"
    article.save()

    # Another reader follows a link saved before the rename.
    page = new_context().new_page()
    page.goto(f"{SIDE_EFFECTS_PATH}#blueness-of-the-scalp")

    page.wait_for_url("**/articles/smp-side-effects/#blueness-of-the-scalp")
    expect(page.get_by_role("heading", level=1)).to_have_text("Side Effects of Scalp Micropigmentation")
    section_heading = page.locator("#blueness-of-the-scalp")
    expect(section_heading).to_be_in_viewport()
    screenshot(page)
