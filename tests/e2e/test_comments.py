"""A reader's comment, held for moderation, approved by a moderator, and a thread closed."""

import re

import pytest
from playwright.sync_api import expect

from comments.models import Comment
from tests.factories import ArticleFactory, CommentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COMMENT = "The redness went away after two days, just as described here."
# Forms sent back faster than COMMENTS_MIN_SUBMIT_SECONDS (2 s) are treated as bots.
HUMAN_TYPING_MS = 2_500


@pytest.fixture
def open_article():
    return ArticleFactory(comments_open=True, side_effects=2)


def run_admin_action(page, selected_pk, action_label):
    """Tick one row of an admin changelist and run an action on it, as a person would."""
    page.locator(f"input[name='_selected_action'][value='{selected_pk}']").check()
    page.locator("select[name='action']").select_option(label=action_label)
    page.get_by_role("button", name="Go", exact=True).click()


def test_reader_comment_awaits_moderation_and_is_shown_to_its_sender_only(
    open_article, page, new_context, screenshot
):
    page.goto(open_article.get_absolute_url())
    form = page.locator("#comment-form")
    form.get_by_label("Name").fill("Robin Reader")
    form.get_by_role("textbox", name=re.compile(r"^Email")).fill("robin@example.org")
    form.get_by_role("textbox", name=re.compile(r"^Comment")).fill(COMMENT)
    page.wait_for_timeout(HUMAN_TYPING_MS)
    form.get_by_role("button", name="Send comment").click()

    page.wait_for_url(f"**{open_article.get_absolute_url()}#comments")
    comments = page.locator("#comments")
    expect(comments.get_by_role("status")).to_contain_text("awaiting moderation")
    held = comments.locator(".comment-held")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(COMMENT)
    expect(held).to_contain_text("Awaiting moderation")
    screenshot(page)
    page.reload()  # a later view, its message gone: still shown to its sender
    expect(page.locator("#comments .comment-held")).to_contain_text(COMMENT)

    someone_else = new_context().new_page()
    someone_else.goto(open_article.get_absolute_url())
    expect(someone_else.locator("#comments")).not_to_contain_text(COMMENT)
    expect(someone_else.locator("#comments .comment")).to_have_count(0)

    comment = Comment.objects.get()
    assert (comment.status, comment.author_name, comment.body) == (
        Comment.Status.PENDING,
        "Robin Reader",
        COMMENT,
    ), comment.status_reason


def test_moderator_approves_a_comment_then_closes_the_thread(
    open_article, new_context, staff_page, screenshot
):
    comment = CommentFactory(
        article=open_article, status=Comment.Status.PENDING, author_name="Robin Reader", body=COMMENT
    )
    reader = new_context().new_page()
    reader.goto(open_article.get_absolute_url())
    expect(reader.locator("#comments")).not_to_contain_text(COMMENT)

    moderator = staff_page("moderator", "Moderators")
    moderator.goto("/admin/comments/comment/")
    expect(moderator.locator("#result_list")).to_contain_text(COMMENT)
    run_admin_action(moderator, comment.pk, "Approve selected comments")
    expect(moderator.locator(".messagelist")).to_contain_text("1 comment approved.")
    screenshot(moderator, "queue")

    reader.reload()
    approved = reader.locator(f"#comments #comment-{comment.pk}")
    expect(approved).to_contain_text("Robin Reader")
    expect(approved).to_contain_text(COMMENT)
    expect(reader.locator("#comment-form")).to_be_visible()
    screenshot(reader, "approved")

    moderator.goto("/admin/comments/commentthread/")
    run_admin_action(moderator, open_article.pk, "Close comments on selected articles")
    expect(moderator.locator(".messagelist")).to_contain_text("Comments closed on 1 article.")
    screenshot(moderator, "threads")

    reader.reload()
    comments = reader.locator("#comments")
    expect(comments).to_contain_text("Comments are closed.")
    expect(comments.locator("form")).to_have_count(0)
    expect(comments).to_contain_text(COMMENT)  # approved comments stay visible
    screenshot(reader)
