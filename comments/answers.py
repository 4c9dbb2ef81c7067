"""Staff answers to readers' comments: published at once, shown with a staff badge and the
author profile of the staff member who wrote them.

Anyone with the permission `comments.answer_comment` (Editors, Moderators and Reviewers) answers
a comment readers see, from the admin (`admin:comments_comment_answer`) or from the comment's
reply page. An answer is a reply like a reader's, one level deep: it goes under the top-level
comment, even when the staff member answered a reply to it.

At most one answer per article is pinned: pinning one unpins the others of its article, so
readers find a single "Pinned answer" box at the top of the thread.
"""

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from articles.models import Article, Author
from comments.models import BODY_MAX_LENGTH, Comment, duplicate_fingerprint

STAFF_ANSWER_REASON = "Staff answer"


class StaffAnswerForm(forms.Form):
    """The staff member's answer to one comment."""

    body = forms.CharField(
        label="Answer",
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text. Published at once, with a staff badge and your author profile.",
    )
    pinned = forms.BooleanField(
        label="Pin this answer to the top of the thread",
        required=False,
        help_text="It replaces the article's pinned answer, if it has one.",
    )

    def __init__(self, *args, auto_id="id_answer_%s", **kwargs):
        # Ids of its own: the reply page shows this form beside the reader's form, which has a body too.
        super().__init__(*args, auto_id=auto_id, **kwargs)


class AnswerRefused(Exception):
    """The comment cannot be answered; the message says why, in words staff understand."""


class AlreadyAnswered(AnswerRefused):
    """The same staff member sent the same answer to the same comment again (a double click,
    the back button): the answer published the first time is `answer`."""

    def __init__(self, answer):
        super().__init__("You have already published this answer.")
        self.answer = answer


def answerable_comments():
    """The comments staff may answer: those readers see, on articles readers see."""
    return Comment.objects.on_published_articles()


def refusal_reason(comment):
    """Why `comment` cannot be answered now, or None when it can (one query)."""
    if answerable_comments().filter(pk=comment.pk).exists():
        return None
    return why_not_shown(comment.pk)


def why_not_shown(pk):
    """In words staff understand, why readers do not see comment `pk`."""
    comment = Comment.objects.select_related("article", "parent").filter(pk=pk).first()
    if comment is None:
        return "This comment no longer exists."
    if comment.status != Comment.Status.APPROVED:
        return (
            f"This comment is not shown to readers (its status is “{comment.get_status_display()}”): "
            "only approved comments can be answered."
        )
    if comment.parent_id and comment.parent.status != Comment.Status.APPROVED:
        return "The comment this one replies to is not shown to readers, so neither is this one."
    if not comment.article.is_published:
        return "Its article is not published: readers could not see the answer."
    return "This comment is not shown to readers."


def author_name_of(user, profile):
    """The name an answer is shown with: the author profile's, else the account's full name,
    else its username."""
    name = profile.name if profile else user.get_full_name() or user.get_username()
    return name[: Comment._meta.get_field("author_name").max_length]


def publish_answer(question, user, body, pinned=False):
    """Publish `user`'s answer to `question` and return it (a new, approved Comment).

    The answer replies to the question's top-level comment (`question.parent`, or the question
    itself), on the same article, approved at once and recorded as moderated by its author.
    It is shown with the user's author profile when they have one (its name, credentials and
    a link), else with their full name or username. Staff may answer even when the thread is
    closed to readers: closing stops readers' comments, not the site's answers.

    Refused (AnswerRefused, nothing saved) unless readers see the question, approved on a
    published article; the question is checked again, locked, in the answer's transaction, so
    a moderator rejecting it meanwhile is not missed. Saved with Comment.save(), so the
    article's counts and pages change with it, and whatever listens to a published comment
    (notifications) hears of it. `pinned` unpins the article's other answers in the same
    transaction: at most one pinned answer per article.
    """
    profile = Author.objects.filter(user=user).first()
    locked = answerable_comments().select_related("article", "parent").select_for_update(of=("self",))
    answer = None
    try:
        with transaction.atomic():
            shown = locked.filter(pk=question.pk).first()
            if shown is None:
                raise AnswerRefused(why_not_shown(question.pk))
            answer = new_answer(shown, user, profile, body, pinned)
            if pinned:
                unpin_answers_of(answer.article_id)
            answer.save()
    except IntegrityError:
        if answer is None:
            raise
        earlier = Comment.objects.filter(article_id=answer.article_id, fingerprint=answer.fingerprint).first()
        if earlier is None:
            raise
        raise AlreadyAnswered(earlier) from None
    return answer


def new_answer(question, user, profile, body, pinned):
    """The unsaved answer to `question`: a reply to its top-level comment."""
    top = question.parent if question.parent_id else question
    now = timezone.now()
    return Comment(
        article=question.article,
        parent=top,
        author_name=author_name_of(user, profile),
        author_email=user.email,
        body=body,
        status=Comment.Status.APPROVED,
        status_reason=STAFF_ANSWER_REASON,
        created_at=now,
        is_staff_answer=True,
        answered_by=user,
        staff_author=profile,
        pinned=pinned,
        moderated_by=user,
        moderated_at=now,
        # One text may answer several comments of an article (the fingerprint is unique per
        # article); sent twice to one comment, it is a duplicate.
        fingerprint=duplicate_fingerprint(user.email or f"user {user.pk}", f"answer to {top.pk}\n{body}"),
    )


def pin_answer(answer):
    """Pin this staff answer to the top of its thread, unpinning the article's others."""
    with transaction.atomic():
        unpin_answers_of(answer.article_id, but=answer.pk)
        Comment.objects.filter(pk=answer.pk, pinned=False).update(pinned=True)


def unpin_answers_of(article_id, but=None):
    """Unpin the article's pinned answers (but the one numbered `but`): at most one is pinned."""
    Comment.objects.filter(article_id=article_id, pinned=True).exclude(pk=but).update(pinned=False)


def unanswered_questions(comments):
    """Of `comments`, the questions waiting for an answer: top-level comments readers see, on
    published articles, that no approved staff answer replies to (a reader's reply is no
    answer, nor a staff answer rejected since). One NOT EXISTS, not a query per comment."""
    answered = Comment.objects.approved().filter(parent=OuterRef("pk"), is_staff_answer=True)
    return comments.filter(
        ~Exists(answered),
        status=Comment.Status.APPROVED,
        parent__isnull=True,
        article__in=Article.objects.published(),
    )
