"""erase_commenter and purge_comment_ips: personal data leaves when it should."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from comments.models import Comment
from tests.commands import call as run
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def test_erase_commenter_anonymizes_their_comments_and_says_how_many(client):
    kept_text = CommentFactory.create_batch(2, author_name="Sam Reader", author_email="sam@example.org")
    other = CommentFactory(author_name="Alex", author_email="alex@example.org")

    output = run("erase_commenter", "SAM@example.org")

    assert "Anonymized 2 comments by sam@example.org." in output
    for comment in kept_text:
        comment.refresh_from_db()
        assert (comment.author_name, comment.author_email, comment.user_agent, comment.ip_address) == (
            "Anonymous",
            "",
            "",
            None,
        )
        assert comment.body.startswith("Comment number")
    other.refresh_from_db()
    assert other.author_name == "Alex"
    assert other.ip_address == "192.0.2.10"
    page = client.get(kept_text[0].article.get_absolute_url()).content.decode()
    assert "Sam Reader" not in page
    assert "Anonymous" in page


def test_erase_commenter_with_delete_removes_their_comments():
    CommentFactory.create_batch(3, author_email="sam@example.org")
    CommentFactory(author_email="alex@example.org")

    output = run("erase_commenter", "sam@example.org", "--delete")

    assert "Deleted 3 comments by sam@example.org." in output
    assert list(Comment.objects.values_list("author_email", flat=True)) == ["alex@example.org"]


def test_erase_commenter_with_no_comments_says_so():
    assert "Anonymized 0 comments by nobody@example.org." in run("erase_commenter", "nobody@example.org")


def test_erase_commenter_refuses_an_invalid_email():
    with pytest.raises(CommandError, match="is not a valid email address"):
        call_command("erase_commenter", "not an email")


def test_purge_comment_ips_forgets_old_addresses_only():
    old = CommentFactory(created_at=timezone.now() - timedelta(days=45))
    recent = CommentFactory(created_at=timezone.now() - timedelta(days=5))

    output = run("purge_comment_ips", "--days", "30")

    assert "Removed the IP address and browser of 1 comment older than 30 days." in output
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.ip_address, old.user_agent) == (None, "")
    assert recent.ip_address == "192.0.2.10"
    assert old.body and old.author_name  # the comment itself stays


def test_purge_comment_ips_refuses_negative_days():
    with pytest.raises(CommandError, match="--days must be 0 or more"):
        call_command("purge_comment_ips", "--days", "-1")
