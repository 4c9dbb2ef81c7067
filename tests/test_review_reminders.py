"""`manage.py send_review_reminders`: one digest a day to the reviewers of what is due."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article, ReviewReminder
from tests.factories import ArticleFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewers(db):
    return [
        UserFactory(username="ada", email="ada@clinic.example", is_staff=True, groups=["Reviewers"]),
        UserFactory(username="bo", email="bo@clinic.example", is_staff=True, groups=["Reviewers"]),
        UserFactory(username="left", email="left@clinic.example", is_active=False, groups=["Reviewers"]),
        UserFactory(username="ed", email="ed@clinic.example", is_staff=True, groups=["Editors"]),
    ]


def reviewed(article, days_ago):
    review = ReviewFactory(article=article)
    review.reviewed_at = timezone.now() - timedelta(days=days_ago)
    review.save()
    return review


def send():
    out = StringIO()
    call_command("send_review_reminders", stdout=out)
    return out.getvalue()


def test_reviewers_get_one_digest_of_never_reviewed_and_overdue_articles(reviewers, settings):
    settings.SITE_URL = "https://smp.example"
    never = ArticleFactory(title="Never looked at")
    overdue = ArticleFactory(title="Checked long ago")
    reviewed(overdue, days_ago=400)
    recent = ArticleFactory(title="Checked last month")
    reviewed(recent, days_ago=30)
    ArticleFactory(title="Still a draft", status=Article.Status.DRAFT)

    output = send()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["ada@clinic.example", "bo@clinic.example"]
    assert message.subject == "[smpinfo] 2 articles due for medical review"
    assert "Never looked at" in message.body
    assert "Checked long ago" in message.body
    assert "Checked last month" not in message.body
    assert "Still a draft" not in message.body
    assert f"https://smp.example/admin/articles/article/{never.pk}/change/" in message.body
    assert "Reminded 2 reviewers of 2 articles" in output


def test_the_interval_setting_decides_what_is_overdue(reviewers, settings):
    settings.ARTICLES_REVIEW_INTERVAL_DAYS = 20
    reviewed(ArticleFactory(title="Checked last month"), days_ago=30)

    send()

    assert "Checked last month" in mail.outbox[0].body
    assert "more than 20 days ago" in mail.outbox[0].body


def test_a_second_run_on_the_same_day_sends_nothing(reviewers):
    ArticleFactory()
    send()

    output = send()

    assert len(mail.outbox) == 1
    assert "already sent" in output
    assert ReviewReminder.objects.count() == 1


def test_the_next_day_sends_again(reviewers):
    ArticleFactory()
    send()
    ReviewReminder.objects.update(sent_on=timezone.localdate() - timedelta(days=1))

    send()

    assert len(mail.outbox) == 2


def test_nothing_due_sends_nothing_and_says_so(reviewers):
    reviewed(ArticleFactory(), days_ago=1)

    output = send()

    assert mail.outbox == []
    assert "No published article is due for review" in output
    assert not ReviewReminder.objects.exists()


def test_no_reviewer_with_an_email_sends_nothing_and_says_so(db):
    ArticleFactory()
    UserFactory(username="quiet", email="", groups=["Reviewers"])

    output = send()

    assert mail.outbox == []
    assert "No active member of Reviewers has an email address" in output


def test_a_mail_failure_is_an_error_and_the_next_run_tries_again(reviewers, settings):
    ArticleFactory()
    settings.EMAIL_BACKEND = "tests.failing_email.FailingEmailBackend"

    with pytest.raises(CommandError, match="the next run tries again"):
        send()
    assert not ReviewReminder.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send()
    assert len(mail.outbox) == 1
