"""Editorial trust in the browser: a medical review recorded in the admin, citations a reader
follows, and axe-core on the pages that show who wrote and who reviewed an article."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.dateformat import format as format_date
from playwright.sync_api import expect

from articles.models import Review
from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import AXE_SCRIPT, describe
from tests.factories import ArticleFactory, AuthorFactory, ReferenceFactory, ReviewFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOT_REVIEWED = "This article has not yet been medically reviewed."
CHANGES_NOTE = "Say that redness lasting more than a week needs a doctor."
CITED_BODY = "Pigment fades slowly over the years [@smith2020].\n\n" + "\n\n".join(
    f"Paragraph {number} of the aftercare advice, long enough to push the references below the fold."
    for number in range(1, 41)
)


def open_review_form(page, article):
    """From the admin's list of articles, open `article` and follow "Record a medical review"."""
    page.goto("/admin/articles/article/")
    page.get_by_role("link", name=article.title, exact=True).click()
    page.wait_for_url(f"**/admin/articles/article/{article.pk}/change/")
    page.locator(".object-tools").get_by_role("link", name="Record a medical review").click()
    page.wait_for_url(f"**/admin/articles/review/add/?article={article.pk}")
    expect(page.locator("#id_article")).to_have_value(str(article.pk))


def test_reviewer_requests_changes_editor_fixes_and_reviewer_approves(new_context, screenshot):
    UserFactory(username="editor", is_staff=True, groups=["Editors"])
    reviewer_user = UserFactory(username="reviewer", is_staff=True, groups=["Reviewers"])
    reviewer = AuthorFactory(
        name="Dr Ada Reviewer", slug="ada-reviewer", credentials="MD, dermatologist", user=reviewer_user
    )
    article = ArticleFactory(title="Redness after a session", body="Redness fades within a day or two.")
    reviewer_page = new_context().new_page()
    log_in(reviewer_page, "reviewer")

    open_review_form(reviewer_page, article)
    reviewer_page.get_by_label("Changes requested").check()
    reviewer_page.locator("#id_note").fill(CHANGES_NOTE)
    screenshot(reviewer_page, "changes-requested")
    reviewer_page.locator("input[name='_save']").click()
    expect(reviewer_page.locator(".messagelist")).to_contain_text("was added successfully")

    reader = new_context().new_page()
    reader.goto(article.get_absolute_url())
    expect(reader.locator("#review")).to_contain_text(NOT_REVIEWED)

    editor = new_context().new_page()
    log_in(editor, "editor")
    editor.goto(f"/admin/articles/article/{article.pk}/change/")
    editor.locator("#id_body").fill(
        "Redness fades within a day or two.\n\nRedness lasting more than a week needs a doctor."
    )
    editor.locator("input[name='_save']").click()
    editor.wait_for_url("**/admin/articles/article/")
    expect(editor.locator(".messagelist")).to_contain_text("was changed successfully")

    open_review_form(reviewer_page, article)
    reviewer_page.get_by_label("Approved").check()
    reviewer_page.locator("#id_note").fill("Checked against current guidance.")
    reviewer_page.locator("input[name='_save']").click()
    expect(reviewer_page.locator(".messagelist")).to_contain_text("was added successfully")

    reviews = list(Review.objects.filter(article=article).order_by("reviewed_at", "pk"))
    assert [(review.outcome, review.reviewer, review.note) for review in reviews] == [
        (Review.Outcome.CHANGES_REQUESTED, reviewer, CHANGES_NOTE),
        (Review.Outcome.APPROVED, reviewer, "Checked against current guidance."),
    ]
    assert reviews[0].content_digest != reviews[1].content_digest  # the first saw the body before the edit
    assert reviews[1].saw_current_content
    assert {review.recorded_by for review in reviews} == {reviewer_user}

    approved_on = format_date(timezone.localtime(reviews[1].reviewed_at), "j F Y")
    reader = new_context().new_page()
    reader.goto(article.get_absolute_url())
    review_line = reader.locator("#review")
    expect(review_line).to_contain_text(
        f"Medically reviewed by Dr Ada Reviewer, MD, dermatologist on {approved_on}"
    )
    expect(review_line.get_by_role("link", name="Dr Ada Reviewer")).to_have_attribute(
        "href", "/authors/ada-reviewer/"
    )
    expect(reader.locator("main")).to_contain_text("Redness lasting more than a week needs a doctor.")
    screenshot(reader)


def test_reader_follows_a_citation_to_its_reference_and_back(page, screenshot):
    article = ArticleFactory(body=CITED_BODY)
    ReferenceFactory(article=article, key="smith2020", title="Pigment stability in the scalp")
    page.goto(article.get_absolute_url())
    entry = page.locator("#references li#ref-1")
    expect(entry).to_contain_text("Pigment stability in the scalp")
    expect(entry).not_to_be_in_viewport()

    citation = page.locator("sup.citation#cite-1-1")
    citation.get_by_role("link", name="Reference 1").click()
    page.wait_for_url("**#ref-1")
    expect(entry).to_be_in_viewport()
    expect(citation).not_to_be_in_viewport()
    screenshot(page, "reference")

    entry.locator("a.citation-back").click()
    page.wait_for_url("**#cite-1-1")
    expect(citation).to_be_in_viewport()
    expect(entry).not_to_be_in_viewport()


def editorial_pages():
    """An article with a byline, a current medical review and a cited reference; its author's profile."""
    writer = AuthorFactory(name="Sam Writer", slug="sam-writer", credentials="RN", bio="Nurse, *ten years*.")
    reviewer = AuthorFactory(name="Dr Ada Reviewer", slug="ada-reviewer", credentials="MD, dermatologist")
    article = ArticleFactory(title="Does the pigment fade?", body=CITED_BODY, side_effects=1)
    article.authors.add(writer)
    ReferenceFactory(article=article, key="smith2020", doi="10.1000/xyz123", pmid="12345678")
    ReviewFactory(article=article, reviewer=reviewer)
    return {"article": article.get_absolute_url(), "author-profile": writer.get_absolute_url()}


@pytest.mark.parametrize("page_name", ["article", "author-profile", "editorial-policy"])
def test_editorial_page_has_no_accessibility_violations(page_name, new_context, screenshot):
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `npm ci` at the repository root"
    call_command("seed_content", stdout=io.StringIO())
    path = {**editorial_pages(), "editorial-policy": "/editorial-policy/"}[page_name]
    # bypass_csp: axe is injected as a script, which the Content-Security-Policy would refuse.
    page = new_context(bypass_csp=True).new_page()
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    if page_name == "article":
        expect(page.locator(".byline")).to_contain_text("By Sam Writer, RN")
        expect(page.locator("#review")).to_contain_text("Medically reviewed by Dr Ada Reviewer")
        expect(page.locator("#references li")).to_have_count(1)
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("() => axe.run()")
    screenshot(page)

    assert not results["violations"], f"axe found on {path}:\n{describe(results['violations'])}"
