"""Reader comments, the blocklist moderators keep, and the comment-thread view of an article.

Each article stores how many comments readers see on it (`Article.approved_comment_count`:
approved, and for a reply, under an approved comment), how many of them are top-level
(`approved_top_level_count`, what the thread's pages count) and how many are pinned staff
answers (`pinned_answer_count`), so that a page of its thread needs no COUNT, and a thread
without approved comments no comment query at all: counted when comments change, never in
a page view. They are the comments app's facts about an article, but they live on the
article row rather than in a
model of this app, because the page reads that row anyway: a table of our own would cost
every article page one more query. Only this module writes them, through
recount_approved_comments(), and every way a comment changes ends there, in the
transaction of the change: a save, a bulk update (the moderation actions), a bulk insert,
a delete, a fixture or revision loaded raw, a full save of the article (which writes back
the counts it was loaded with). A backup holds counts and comments of one moment, so a
restore brings back both as they were.

Recounting, not adding one: the article row is locked first, then its shown comments are
counted from the comment_thread index (joined to the parents of replies), so that of two
moderators approving at once on one thread, the second counts after the first has
committed (PostgreSQL's READ COMMITTED takes a new snapshot for each statement; SQLite lets
one writer at a time).
"""

import hashlib
import unicodedata

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from articles.models import COMMENT_COUNTS, Article, Author, deleted_with_its_article
from articles.once import OncePerBlock
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


def thread_page_url(article, page_number):
    """The address of a page of the article's thread."""
    query = f"?page={page_number}" if page_number > 1 else ""
    return f"{article.get_absolute_url()}{query}"


def comment_permalink(article, page_number, comment_pk):
    """The public address of a comment: the page of the article's thread that shows it."""
    return f"{thread_page_url(article, page_number)}#comment-{comment_pk}"


def threads_changed(articles):
    """The public comments of these articles changed: retire their pages once the
    transaction commits (each page of a thread has the article page's path scope)."""
    pages_changed(*{path_scope(article.get_absolute_url()) for article in articles})


def comment_saved_or_deleted(sender, instance, **kwargs):
    """Signal receiver: an article's pages change only when a public comment appears,
    changes or goes away."""
    if instance.is_public or instance.was_public:
        threads_changed([instance.article])


# Sent in the transaction of the change, once it is written, with `pks`: the comments that have
# just become approved, whether stored approved (the policy, a staff answer) or approved since
# (the admin's form and actions, the moderation links). Not for bulk inserts or raw loads
# (demo data, a restore): nothing new was published there. comments.subscriptions listens.
comments_published = Signal()

# The conversation a comment belongs to: the top-level comment's own number, shared by its
# replies (a page of the thread reads its comments and their replies by it, in one query).
CONVERSATION = Coalesce("parent", "id")
# The fields of a comment that readers may see (or that decide whether they see it).
SHOWN_FIELDS = {
    "article", "article_id", "author_name", "body", "created_at", "status", "parent", "parent_id",
    "is_staff_answer", "pinned", "staff_author", "staff_author_id",
}  # fmt: skip
# Those that decide which article counts it as shown, and where.
COUNTED_FIELDS = {"article", "article_id", "status", "parent", "parent_id", "pinned"}
# What each article stores of them: shown comments, top-level ones, pinned answers.
COUNTS = COMMENT_COUNTS
# Rows changed per UPDATE by a bulk change of COUNTED_FIELDS (SQLite takes 999 parameters).
UPDATE_BATCH_SIZE = 500


def recount_approved_comments(article_ids):
    """Store the number of comments readers see on each of these articles, how many of them are
    top-level (the thread's pages count those) and how many are pinned answers; returns
    {pk: (total, top_level, pinned)}.

    Locks the article rows (in pk order, so two recounts never deadlock), then counts, in
    the caller's transaction when there is one: a comment change and its count commit
    together. The count is an index-only scan of comment_thread on PostgreSQL. Written with
    the plain base manager: a count is no edit of the article, and the comment change has
    retired the pages of its thread already (threads_changed).
    """
    ids = sorted({pk for pk in article_ids if pk is not None})
    if not ids:
        return {}
    articles = Article._base_manager.select_for_update().filter(pk__in=ids).order_by("pk")
    with transaction.atomic(savepoint=False):
        stored = {pk: tuple(counts) for pk, *counts in articles.values_list("pk", *COUNTS)}
        shown = Comment.objects.shown().filter(article_id__in=stored).order_by()
        counts = dict.fromkeys(stored, (0, 0, 0))
        counts.update(
            (pk, tuple(found))
            for pk, *found in shown.values_list("article_id").annotate(
                total=models.Count("pk"),
                top=models.Count("pk", filter=models.Q(parent__isnull=True)),
                pinned=models.Count("pk", filter=models.Q(pinned=True, parent__isnull=False)),
            )
        )
        changed = [Article(pk=pk, **dict(zip(COUNTS, found, strict=True)))
                   for pk, found in counts.items() if found != stored[pk]]  # fmt: skip
        Article._base_manager.bulk_update(changed, COUNTS)
    return counts


# Articles whose recount is put off to the end of a recounting_once() block.
_recounting = OncePerBlock("pending_recount", lambda pks: recount_approved_comments(pks))


def recounting_once():
    """Inside this block, comments that change have their articles recounted once, at the
    end (a bulk delete sends one signal per comment)."""
    return _recounting.block()


def approved_comments_changed(article_ids):
    """These articles may have gained or lost approved comments: recount them now, or at
    the end of the recounting_once() block we are in."""
    if not _recounting.defer(article_ids):
        recount_approved_comments(article_ids)


def comment_deleted(sender, instance, origin=None, **kwargs):
    """Signal receiver: a deleted comment leaves its article's count, whatever its status
    was when loaded (another moderator may have approved it since), unless the article is
    being deleted with it."""
    if not deleted_with_its_article(origin):
        approved_comments_changed([instance.article_id])


def comment_loaded_raw(sender, instance, raw, **kwargs):
    """Signal receiver: a comment saved raw (loaddata) skips Comment.save(): count it here."""
    if raw:
        approved_comments_changed([instance.article_id])


def article_saved(sender, instance, created, raw, update_fields=None, **kwargs):
    """Signal receiver for Article and its proxies: a save that wrote the count the article
    was loaded with (a full save, a revision or fixture loaded raw) is followed by a recount
    in the same transaction, so another process's comment change since is not undone."""
    if update_fields is not None and not set(COUNTS) & set(update_fields):
        return
    if created and not raw and not instance.approved_comment_count:
        return  # a new article has no comments yet
    counts = recount_approved_comments([instance.pk]).get(instance.pk, (0, 0, 0))
    for name, count in zip(COUNTS, counts, strict=True):
        setattr(instance, name, count)


class CommentQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Comment.Status.APPROVED)

    def shown(self):
        """The comments readers see: approved, and for a reply, under an approved comment
        (a reply whose comment was held or rejected since is hidden with it)."""
        return self.approved().filter(
            models.Q(parent__isnull=True) | models.Q(parent__status=Comment.Status.APPROVED)
        )

    def top_level(self):
        return self.filter(parent__isnull=True)

    def on_published_articles(self):
        """Those readers see on articles readers see: what may be replied to, reported or
        answered."""
        return self.shown().filter(article__in=Article.objects.published())

    def pending(self):
        return self.filter(status=Comment.Status.PENDING)

    def update(self, **fields):
        """Update the comments and, when readers may see the change, retire the pages
        of their threads on commit. Every bulk change goes through here (bulk_update too),
        so none can leave a stale page or count."""
        if not SHOWN_FIELDS & fields.keys():
            return super().update(**fields)
        if COUNTED_FIELDS & fields.keys():
            return self.update_counted(fields)
        articles = list(Article.objects.filter(pk__in=self.values("article_id")).only("slug"))
        updated = super().update(**fields)
        if updated:
            threads_changed(articles)
        return updated

    def update_counted(self, fields):
        """An update that may move comments in or out of their articles' counts.

        The rows are listed and locked first, then updated by primary key, so that the
        articles recounted are exactly those of the rows changed: a comment that comes to
        match the filter meanwhile (a new pending one, during "approve all pending") is
        neither changed nor missed by the count.
        """
        if self.query.is_sliced:
            raise TypeError("Cannot update a query once a slice has been taken.")
        with transaction.atomic(using=self.db, savepoint=False):
            locked = self.select_for_update(of=("self",)).order_by("pk")
            rows = list(locked.values_list("pk", "article_id", "status"))
            article_ids = {article_id for _pk, article_id, _status in rows}
            updated = 0
            pks = [pk for pk, _article_id, _status in rows]
            # Those not approved before, that the new status may approve (an expression may).
            status = fields.get("status", "")
            may_publish = status == Comment.Status.APPROVED or not isinstance(status, str)
            held = {pk for pk, _article_id, was in rows if was != Comment.Status.APPROVED and may_publish}
            published = []
            for start in range(0, len(pks), UPDATE_BATCH_SIZE):
                batch = pks[start : start + UPDATE_BATCH_SIZE]
                changed = Comment.objects.filter(pk__in=batch)
                updated += models.QuerySet.update(changed, **fields)  # the plain update: counted here
                if "article" in fields or "article_id" in fields:
                    article_ids.update(changed.values_list("article_id", flat=True))
                if held_in_batch := [pk for pk in batch if pk in held]:
                    approved = Comment.objects.approved().filter(pk__in=held_in_batch).order_by("pk")
                    published.extend(approved.values_list("pk", flat=True))
            if updated:
                threads_changed(Article.objects.filter(pk__in=article_ids).only("slug"))
                approved_comments_changed(article_ids)
            if published:
                comments_published.send(sender=Comment, pks=published)
        return updated

    def bulk_create(self, objs, batch_size=None, **options):
        """Insert comments, and count the approved ones in their articles' totals (with
        update_conflicts, those of every article named: an existing row may change)."""
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, batch_size, **options)
            counted = objs if options.get("update_conflicts") else [c for c in objs if c.is_public]
            approved_comments_changed({comment.article_id for comment in counted})
        return created

    def delete(self):
        """Delete the comments, recounting their articles once for the lot."""
        with transaction.atomic(using=self.db, savepoint=False), recounting_once():
            return super().delete()

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
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name="reply to",
        help_text="The top-level comment this one replies to (replies are one level deep); "
        "empty for a top-level comment. Deleting a comment deletes its replies.",
    )
    notify = models.BooleanField(
        "email the commenter",
        default=False,
        help_text="The commenter asked to be emailed when this comment is published and when someone "
        "replies; nothing is sent until they confirm their address.",
    )
    is_staff_answer = models.BooleanField(
        "staff answer",
        default=False,
        help_text="Written by the site's staff: published at once and shown with a staff badge.",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment_answers",
        help_text="The staff account that wrote this answer.",
    )
    staff_author = models.ForeignKey(
        Author,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment_answers",
        verbose_name="author profile",
        help_text="The author profile a staff answer is shown with: its name, credentials and a link.",
    )
    pinned = models.BooleanField(
        default=False,
        help_text="A pinned staff answer is shown, with the comment it answers, at the top of the thread.",
    )
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
            # The article page: approved comments of one article in the thread's own order
            # (oldest first, pk breaks ties), so that a page is a walk of the index from the
            # nearer end, and the article's count an index-only scan.
            models.Index(fields=["article", "status", "created_at", "id"], name="comment_thread"),
            # A page of the thread: its top-level comments, walked in the same order...
            models.Index(
                fields=["article", "status", "created_at", "id"],
                condition=models.Q(parent__isnull=True),
                name="comment_top_level",
            ),
            # ...then those comments and their replies, found together by conversation.
            models.Index(CONVERSATION, "status", name="comment_conversation"),
            # The pinned answers shown at the top of a thread.
            models.Index(fields=["article"], condition=models.Q(pinned=True), name="comment_pinned"),
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
        permissions = [("answer_comment", "Can answer readers' comments as staff")]
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
        if not self.may_change_counts(kwargs.get("update_fields")):
            super().save(*args, **kwargs)
            return
        with transaction.atomic(savepoint=False):
            published = self.is_being_published(kwargs.get("update_fields"))
            super().save(*args, **kwargs)
            approved_comments_changed([self.article_id, getattr(self, "loaded_article_id", None)])
            if published:
                comments_published.send(sender=Comment, pks=[self.pk])
        self.loaded_article_id = self.article_id
        self.loaded_status = self.status  # saved again, it is no longer being published

    def get_absolute_url(self):
        """The public permalink: the page of the thread that shows this comment (a reply is
        on the page of the comment it answers)."""
        top = self.parent if self.parent_id else self
        earlier = (
            Comment.objects.approved()
            .top_level()
            .filter(
                models.Q(created_at__lt=top.created_at) | models.Q(created_at=top.created_at, pk__lt=top.pk),
                article_id=self.article_id,
            )
        )
        return comment_permalink(self.article, earlier.count() // COMMENTS_PER_PAGE + 1, self.pk)

    @classmethod
    def from_db(cls, db, field_names, values):
        comment = super().from_db(db, field_names, values)
        # Remembered so that a change away from "approved" is known to change the page, and
        # a move to another article to change the count of the first one.
        comment.loaded_status = comment.__dict__.get("status")
        comment.loaded_article_id = comment.__dict__.get("article_id")
        return comment

    @property
    def is_public(self):
        return self.status == self.Status.APPROVED

    @property
    def was_public(self):
        return getattr(self, "loaded_status", None) == self.Status.APPROVED

    def may_change_counts(self, update_fields):
        """Whether saving may move this comment into or out of an article's count. Any save
        of a stored comment may: the status it was loaded with may have changed since."""
        if update_fields is not None and not COUNTED_FIELDS & set(update_fields):
            return False
        return self.pk is not None or self.is_public

    def is_being_published(self, update_fields):
        """Whether this save makes the comment approved: a new approved comment, or a stored one
        that was not approved. Its stored status is read again, locked, when it was loaded with
        another one: another moderator may have approved it meanwhile, and it is published once."""
        if not self.is_public or (update_fields is not None and "status" not in update_fields):
            return False
        if self._state.adding:
            return True
        if self.was_public:
            return False
        stored = Comment.objects.select_for_update().filter(pk=self.pk).values_list("status", flat=True)
        return stored.first() != self.Status.APPROVED


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


class CommentReport(models.Model):
    """A reader's report of an approved comment. Enough of them (COMMENTS_REPORTS_TO_HOLD)
    send the comment back to the moderation queue (comments.reports).

    The reporter's address is kept only as a keyed digest: enough to count one report per
    address and comment, nothing to find the reader by.
    """

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam or advertising"
        ABUSE = "abuse", "Rude, hateful or harassing"
        HEALTH = "health", "False or dangerous health advice"
        PRIVATE = "private", "Shares someone's private information"
        OTHER = "other", "Something else"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reporter = models.CharField(
        max_length=64, editable=False, help_text="A keyed digest of the reporter's address, not the address."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="comment_report_once_per_reader"),
        ]

    def __str__(self):
        return f"{self.get_reason_display()}: comment {self.comment_id}"


class PersonalDataRequest(models.Model):
    """A record of each export or erasure of a commenter's personal data: who did it, when,
    and how many comments it covered. The email itself is kept only as a keyed digest, so
    that the record of an erasure does not keep what was erased."""

    class Action(models.TextChoices):
        EXPORT = "export", "Export (JSON download)"
        ANONYMIZE = "anonymize", "Erase: anonymize the comments (the text stays, as “Anonymous”)"
        DELETE = "delete", "Erase: delete the comments"

    action = models.CharField(max_length=10, choices=Action.choices)
    email_digest = models.CharField(
        "email (digest)",
        max_length=64,
        help_text="A keyed digest of the email: the same email gives the same.",
    )
    rows = models.PositiveIntegerField("comments", help_text="How many comments it exported or erased.")
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="by"
    )
    done_at = models.DateTimeField("when", default=timezone.now)

    class Meta:
        ordering = ["-done_at", "-pk"]
        verbose_name = "personal data request"
        permissions = [("handle_personal_data", "Can export and erase a commenter's personal data")]

    def __str__(self):
        return f"{self.get_action_display()} ({self.rows} comments)"


class NotificationAddress(models.Model):
    """An address a commenter asked to be emailed at about their comments (the `notify` box).

    Nothing but the confirmation itself is sent to it until its owner confirms it through
    the signed link of that first email (double opt-in); it then stays confirmed for later
    comments, until its owner unsubscribes (one click, from any of the emails).
    """

    email = models.EmailField(unique=True, help_text="Stored in lower case.")
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last confirmation email was queued."
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its owner confirmed it; empty until then."
    )
    unsubscribed_at = models.DateTimeField(
        null=True, blank=True, help_text="When its owner unsubscribed: nothing is sent to it since."
    )

    class Meta:
        ordering = ["email"]
        verbose_name = "notification address"

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def may_be_emailed(self):
        return self.confirmed_at is not None and self.unsubscribed_at is None
