"""Reader comments, the blocklist moderators keep, and the comment-thread view of an article."""

import hashlib
import unicodedata

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

from articles.models import Article
from pagecache import pages_changed, path_scope

COMMENTS_PER_PAGE = 50
BODY_MAX_LENGTH = 5000
DUPLICATE_MESSAGE = "You have already posted this comment on this article. It may be waiting for a moderator."


def normalize_email(email):
    """An email as stored and compared: trimmed and in lower case, so that "Sam@Example.org"
    and "sam@example.org" are one commenter for duplicates, the first-time rule and erasure."""
    return (email or "").strip().lower()


def duplicate_fingerprint(email, body):
    """What makes two comments on one article the same comment, as a SHA-256 digest (hex).

    The same email (in any letter case) and the same text, once Unicode-normalised (NFC) with
    its runs of white space made one space: a comment sent again by a reload, a double click,
    the back button or a bot. As WordPress does, it is refused for as long as the first one
    is stored, whatever its status and however long ago: a unique constraint cannot say
    "within a day", and one that holds forever cannot be raced. A comment without an email
    (its commenter erased) has no fingerprint and is nobody's duplicate.
    """
    email = normalize_email(email)
    if not email:
        return None
    text = " ".join(unicodedata.normalize("NFC", body or "").split())
    return hashlib.sha256(f"{email}\n{text}".encode()).hexdigest()


def comment_permalink(article, page_number, comment_pk):
    """The public address of a comment: the page of the article's thread that shows it."""
    query = f"?page={page_number}" if page_number > 1 else ""
    return f"{article.get_absolute_url()}{query}#comment-{comment_pk}"


def threads_changed(articles):
    """The public comments of these articles changed: retire their pages once the
    transaction commits (each page of a thread has the article page's path scope)."""
    pages_changed(*{path_scope(article.get_absolute_url()) for article in articles})


def comment_saved_or_deleted(sender, instance, **kwargs):
    """Signal receiver: an article's pages change only when a public comment appears,
    changes or goes away."""
    if instance.is_public or instance.was_public:
        threads_changed([instance.article])


# The fields of a comment that readers may see (or that decide whether they see it).
SHOWN_FIELDS = {"article", "article_id", "author_name", "body", "created_at", "status"}


class CommentQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Comment.Status.APPROVED)

    def pending(self):
        return self.filter(status=Comment.Status.PENDING)

    def update(self, **fields):
        """Update the comments and, when readers may see the change, retire the pages
        of their threads on commit. Every bulk change goes through here, so none can
        leave a stale page."""
        if not SHOWN_FIELDS & fields.keys():
            return super().update(**fields)
        articles = list(Article.objects.filter(pk__in=self.values("article_id")).only("slug"))
        updated = super().update(**fields)
        if updated:
            threads_changed(articles)
        return updated

    def set_status(self, status, by):
        """Moderate these comments: the new status, who gave it and when; returns how many."""
        return self.update(status=status, moderated_by=by, moderated_at=timezone.now())


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
    # NULL, not "", for "no fingerprint": NULLs never collide in the unique constraint below.
    fingerprint = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text="The email and text as the reader sent them, hashed "
        "(comments.models.duplicate_fingerprint): the same comment on the same article is refused. "
        "Empty once the commenter is erased.",
    )

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
        constraints = [
            # Duplicates are refused by the database, so that comments sent at the same moment
            # cannot both pass a check made before either is stored. NULLs never collide.
            models.UniqueConstraint(fields=["article", "fingerprint"], name="comment_unique_fingerprint"),
        ]

    def __str__(self):
        return f"{self.author_name} on {self.article}"

    def save(self, *args, **kwargs):
        self.author_email = normalize_email(self.author_email)
        if self._state.adding and self.fingerprint is None:
            # Taken once, from what the reader sent: a moderator's later correction of the
            # text neither frees the reader to send the original again nor collides with it.
            self.fingerprint = duplicate_fingerprint(self.author_email, self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        """The public permalink: the page of the thread that shows this comment."""
        earlier = Comment.objects.approved().filter(
            models.Q(created_at__lt=self.created_at) | models.Q(created_at=self.created_at, pk__lt=self.pk),
            article_id=self.article_id,
        )
        return comment_permalink(self.article, earlier.count() // COMMENTS_PER_PAGE + 1, self.pk)

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
    sides are folded (see comments.moderation.fold and readings).
    """

    phrase = models.CharField(
        max_length=200,
        unique=True,
        help_text="Matched as whole words, ignoring case, accents, full-width and look-alike letters, "
        "hidden characters, HTML tags and character references. Example: “cheap pills” or "
        "“spam-domain.example”.",
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
