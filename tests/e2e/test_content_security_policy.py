"""With the Content-Security-Policy enforced, no page or admin screen trips it."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import ArticleFactory, CommentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def watch_for_violations(page):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return violations


def test_reader_pages_run_under_the_policy_without_violations(new_context):
    call_command("seed_content")
    open_article = ArticleFactory(slug="open-thread", comments_open=True, side_effects=2)
    page = new_context().new_page()
    violations = watch_for_violations(page)

    for path in ["/", "/articles/side-effects-of-scalp-micropigmentation/", open_article.get_absolute_url(),
                 "/search/?q=blue"]:  # fmt: skip
        response = page.goto(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]

    assert violations == []


def test_admin_screens_work_under_the_policy(staff_page):
    article = ArticleFactory(side_effects=2)
    CommentFactory(article=article, status="pending")
    editor = staff_page("editor", "Editors")
    violations = watch_for_violations(editor)

    change = f"/admin/articles/article/{article.pk}/change/"
    history = f"/admin/articles/article/{article.pk}/history/"
    for path in ["/admin/", "/admin/articles/article/", "/admin/articles/article/add/", change, history]:
        editor.goto(path)
    editor.goto("/admin/articles/article/add/")
    editor.locator("#id_title").press_sequentially("Typed title")
    expect(editor.locator("#id_slug")).to_have_value("typed-title")  # the admin's own script ran

    assert violations == []
