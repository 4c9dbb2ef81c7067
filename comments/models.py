"""Reader comments, the blocklist moderators keep, and the comment-thread view of an article."""

import unicodedata

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from articles.models import Article

COMMENTS_PER_PAGE = 50
BODY_MAX_LENGTH = 5000


class CommentQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Comment.Status.APPROVED)

    def pending(self):
        return self.filter(status=Comment.Status.PENDING)


class Comment(models.Model):
    """A reader's comment on an article. Only approved comments are shown publicly.

    Nothing a reader sends is silently dropped: spam is kept with status `spam`
    and the reason, so a moderator can rescue a false positive.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting moderation"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SPAM = "spam", "Spam"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    author_name = models.CharField("name", max_length=100, help_text="Shown publicly with the comment.")
    author_email = models.EmailField(
        "email", blank=True, help_text="Never shown publicly. Blank once the commenter is erased."
    )
    body = models.TextField(
        "comment",
        validators=[MaxLengthValidator(BODY_MAX_LENGTH)],
        help_text="Plain text; shown exactly as written, with its line breaks.",
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PENDING,
        help_text="Only approved comments are shown on the article. Spam and rejected comments are kept "
        "out of sight, so a mistake can be undone.",
    )
    status_reason = models.CharField(
        "reason",
        max_length=255,
        blank=True,
        help_text="Why the moderation policy gave this status when the comment arrived.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(
        "IP address",
        null=True,
        blank=True,
        help_text="For moderation only; the daily purge_comment_ips run removes it after 30 days.",
    )
    user_agent = models.CharField(
        "browser",
        max_length=500,
        blank=True,
        help_text="For moderation only; the daily purge_comment_ips run removes it after 30 days.",
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moderated_comments",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The article page: approved comments of one article, oldest first.
            models.Index(fields=["article", "status", "created_at"], name="comment_thread"),
            # The moderation queue: pending comments, newest first.
            models.Index(fields=["status", "-created_at"], name="comment_queue"),
            # The first-time policy, duplicates and the eraser look comments up by email.
            models.Index(fields=["author_email", "status"], name="comment_author_email"),
            # The queue's "article with pending comments" filter: pending counts per
            # article from the index alone (143-317 ms -> 11 ms at a million comments).
            models.Index(
                fields=["article", "id"],
                condition=models.Q(status="pending"),
                name="comment_pending_article",
            ),
        ]

    def __str__(self):
        return f"{self.author_name} on {self.article}"

    def get_absolute_url(self):
        """The public permalink: the page of the thread that shows this comment."""
        earlier = Comment.objects.approved().filter(
            models.Q(created_at__lt=self.created_at) | models.Q(created_at=self.created_at, pk__lt=self.pk),
            article_id=self.article_id,
        )
        page = earlier.count() // COMMENTS_PER_PAGE + 1
        url = reverse("articles:detail", kwargs={"slug": self.article.slug})
        query = f"?page={page}" if page > 1 else ""
        return f"{url}{query}#comment-{self.pk}"

    @classmethod
    def from_db(cls, db, field_names, values):
        comment = super().from_db(db, field_names, values)
        # Remembered so that a change away from "approved" is known to change the page.
        comment.loaded_status = comment.__dict__.get("status")
        return comment

    @property
    def is_public(self):
        return self.status == self.Status.APPROVED

    @property
    def was_public(self):
        return getattr(self, "loaded_status", None) == self.Status.APPROVED


class BlockedPhrase(models.Model):
    """A word or phrase that marks a new comment as spam wherever it appears.

    Matched against the commenter's name, email, comment and browser, after both
    sides are normalised (see comments.moderation.normalize_text).
    """

    phrase = models.CharField(
        max_length=200,
        unique=True,
        help_text="Matched as whole words, ignoring case, full-width letters, hidden characters "
        "and HTML tags. Example: “cheap pills” or “spam-domain.example”.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Optional: why it was added.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["phrase"]
        verbose_name = "blocked phrase"

    def __str__(self):
        return self.phrase

    def save(self, *args, **kwargs):
        self.phrase = unicodedata.normalize("NFKC", self.phrase).strip()
        super().save(*args, **kwargs)


class CommentThread(Article):
    """An article seen only as a comment thread.

    Moderators open and close threads here with their own permission
    (`comments.change_commentthread`) without any right to change the article.
    """

    class Meta:
        proxy = True
        verbose_name = "comment thread"
        ordering = ["-published_at", "-pk"]
