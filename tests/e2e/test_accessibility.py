"""axe-core finds no serious or critical accessibility problem on the pages readers and staff use
first, and every page has a heading of the first level."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.e2e.conftest import log_in
from tests.factories import ArticleFactory, AuthorFactory, CommentFactory, UserFactory
from tests.pictures import illustrated_article, library_image

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"  # npm ci
BLOCKING_IMPACTS = {"serious", "critical"}
# Rules that block whatever impact axe gives them ("moderate" for these).
BLOCKING_RULES = {"page-has-heading-one", "landmark-one-main"}


def open_article_path():
    return ArticleFactory(comments_open=True, side_effects=2).get_absolute_url()


def article_with_images():
    """An article with a featured image, a figure in its text, a decorative picture within a
    sentence and a side effect's image."""
    return illustrated_article()[0]


def article_with_images_path():
    return article_with_images().get_absolute_url()


def image_library_path():
    """The library's list, with an image no page shows and a decorative one among them."""
    article_with_images()
    library_image(800, 600, alt_text="Not used on any page")
    return "/admin/images/image/"


def comment_report_path():
    comment = CommentFactory(article=ArticleFactory(comments_open=True), status="approved")
    return f"/comments/{comment.pk}/report/"


def conversation_path():
    """An open thread whose comment has a reader's reply and a pinned staff answer."""
    article = ArticleFactory(comments_open=True)
    question = CommentFactory(article=article, status="approved", body="Do the dots look blue?")
    CommentFactory(article=article, parent=question, status="approved", body="Mine did too.")
    CommentFactory(
        article=article, parent=question, status="approved", is_staff_answer=True, pinned=True,
        staff_author=AuthorFactory(name="Sam Answerer", slug="sam-answerer"), body="It fades as it heals.",
    )  # fmt: skip
    return article.get_absolute_url()


def reply_form_path():
    comment = CommentFactory(article=ArticleFactory(comments_open=True), status="approved")
    return f"/comments/{comment.pk}/reply/"


PAGES = {
    "home": lambda: "/",
    "side-effects-article": lambda: "/articles/side-effects-of-scalp-micropigmentation/",
    "open-article-with-comment-form": open_article_path,
    "search": lambda: "/search/?q=blue",
    "about-page": lambda: "/about/",
    "author-profile": lambda: "/authors/smpinfo-editorial-team/",
    "topics-index": lambda: "/topics/",
    "topic-page": lambda: "/topics/side-effects-and-aftercare/",
    "admin-login": lambda: "/admin/login/",
    "article-with-images": article_with_images_path,
    "image-library": image_library_path,
    "image-upload": lambda: "/admin/images/image/add/",
    "comment-report": comment_report_path,
    "thread-with-replies-and-a-pinned-answer": conversation_path,
    "reply-form": reply_form_path,
}
# Pages seen by an editor logged into the admin.
EDITOR_PAGES = {"image-library", "image-upload"}


def log_in_as_editor(page):
    UserFactory(username="editor", is_staff=True, groups=["Editors"])
    log_in(page, "editor")


def describe(violations):
    return json.dumps(
        [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [
                    {"target": node["target"], "summary": node.get("failureSummary", "")}
                    for node in violation["nodes"]
                ],
            }
            for violation in violations
        ],
        indent=2,
    )


@pytest.mark.parametrize("page_name", PAGES)
def test_page_has_no_serious_accessibility_violations(page_name, new_context, screenshot):
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `npm ci` at the repository root"
    call_command("seed_content", stdout=io.StringIO())
    path = PAGES[page_name]()
    # bypass_csp: axe is injected as a script, which a Content-Security-Policy would refuse.
    page = new_context(bypass_csp=True).new_page()
    if page_name in EDITOR_PAGES:
        log_in_as_editor(page)
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("() => axe.run()")
    screenshot(page)

    blocking = [
        violation
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS or violation["id"] in BLOCKING_RULES
    ]
    assert not blocking, f"axe found on {path}:\n{describe(blocking)}"
