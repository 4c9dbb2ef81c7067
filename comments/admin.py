"""Moderation in the Django admin: the comment queue, staff answers, the blocklist and comment threads."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.text import Truncator

from articles.admin import ArticleAdmin, LenientChangeListMixin, as_id
from articles.models import Article
from comments import answers, personal_data
from comments.answers import AlreadyAnswered, AnswerRefused, StaffAnswerForm, publish_answer
from comments.forms import PersonalDataForm
from comments.models import BlockedPhrase, Comment, CommentThread, PersonalDataRequest
from comments.moderation import thread_is_open
from comments.paginators import EstimatedCountPaginator
from comments.views import HttpResponseSeeOther


class StatusFilter(admin.SimpleListFilter):
    """Status, showing the queue (pending) unless another status or "All" is chosen."""

    title = "status"
    parameter_name = "status"
    default = Comment.Status.PENDING

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        if AnswersFilter.parameter_name in request.GET:
            self.default = "all"  # questions and answers are approved, and answers never pending

    def lookups(self, request, model_admin):
        return [*Comment.Status.choices, ("all", "All")]

    def choices(self, changelist):
        current = self.value() or self.default
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or self.default
        if value == "all":
            return queryset
        if value not in Comment.Status.values:
            return queryset.none()
        return queryset.filter(status=value)


class ArticleWithPendingFilter(admin.SimpleListFilter):
    """Filter by article, listing only articles with comments awaiting moderation.

    Listing every article would mean a query over the whole comments table on every
    page of the queue; any article can still be chosen through ?article=<id>.
    """

    title = "article with pending comments"
    parameter_name = "article"

    def lookups(self, request, model_admin):
        pending = Comment.objects.pending().values("article_id").annotate(total=Count("pk"))
        pending = pending.order_by("-total")[:30]
        titles = dict(CommentThread.objects.filter(pk__in=[row["article_id"] for row in pending])
                      .values_list("pk", "title"))  # fmt: skip
        return [(str(row["article_id"]), f"{titles.get(row['article_id'], '?')} ({row['total']})")
                for row in pending]  # fmt: skip

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        article_id = as_id(value)
        if article_id is None:
            return queryset.none()  # not an article's id: no comments, rather than an error
        return queryset.filter(article_id=article_id)


class AnswersFilter(admin.SimpleListFilter):
    """Questions readers see that no staff answer answers yet, and the staff answers."""

    title = "answers"
    parameter_name = "answers"

    def lookups(self, request, model_admin):
        return [("unanswered", "Questions without an answer"), ("staff", "Staff answers")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                # Whatever status was chosen: these lists have statuses of their own.
                "query_string": changelist.get_query_string(
                    {self.parameter_name: value}, remove=[StatusFilter.parameter_name]
                ),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "unanswered":
            return answers.unanswered_questions(queryset)
        if value == "staff":
            return queryset.filter(is_staff_answer=True)
        return queryset.none()


def set_status(modeladmin, request, queryset, status, verb):
    updated = queryset.set_status(status, request.user)
    modeladmin.message_user(
        request, f"{updated} comment{'s' if updated != 1 else ''} {verb}.", messages.SUCCESS
    )


# What a moderator may correct in a comment's form; the rest is the record.
EDITABLE_BY_MODERATORS = {"author_name", "author_email", "body", "status"}
# What staff who see comments only to answer them (Reviewers) are not shown of a commenter.
PERSONAL_FIELDS = {"author_email", "ip_address", "user_agent"}
# Where the answer form may send its author back to, by the form's `next` field.
AFTER_ANSWERING = {"article"}  # the answer on the article (the reply page's staff form)


@admin.register(Comment)
class CommentAdmin(LenientChangeListMixin, admin.ModelAdmin):
    list_display = [
        "excerpt", "author_name", "article_title", "status", "status_reason", "staff_answer", "created_at",
    ]  # fmt: skip
    list_display_links = ["excerpt"]
    list_filter = [StatusFilter, AnswersFilter, ArticleWithPendingFilter]
    list_select_related = ["article"]
    list_per_page = 50
    paginator = EstimatedCountPaginator
    search_fields = ["author_name", "author_email", "body"]
    show_full_result_count = False
    ordering = ["-created_at", "-pk"]
    actions = ["approve_comments", "reject_comments", "mark_as_spam", "pin_answers", "unpin_answers"]
    fields = [
        "article",
        "author_name",
        "author_email",
        "body",
        "status",
        "status_reason",
        "notify",
        "parent",
        "is_staff_answer",
        "staff_author",
        "answered_by",
        "pinned",
        "created_at",
        "ip_address",
        "user_agent",
        "moderated_by",
        "moderated_at",
    ]
    readonly_fields = [name for name in fields if name not in EDITABLE_BY_MODERATORS]

    def has_add_permission(self, request):
        return False  # comments come from readers, through the article page

    def has_answer_permission(self, request, obj=None):
        return request.user.has_perm("comments.answer_comment")

    def has_view_permission(self, request, obj=None):
        # Staff who answer comments (Reviewers too) read them, without moderating them.
        return super().has_view_permission(request, obj) or self.has_answer_permission(request)

    def sees_commenters(self, request):
        """Whether the user reads comments as moderators and editors do, commenters' emails,
        addresses and browsers included; those who only answer (Reviewers) do not."""
        return super().has_view_permission(request)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if self.sees_commenters(request) else [f for f in fields if f not in PERSONAL_FIELDS]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if self.sees_commenters(request) else [f for f in fields if f not in PERSONAL_FIELDS]

    def get_list_display(self, request):
        list_display = super().get_list_display(request)
        return [*list_display, "answer_link"] if self.has_answer_permission(request) else list_display

    @admin.display(description="Comment")
    def excerpt(self, comment):
        return Truncator(comment.body).chars(80)

    @admin.display(description="Staff answer", ordering="is_staff_answer")
    def staff_answer(self, comment):
        if not comment.is_staff_answer:
            return ""
        return "Yes, pinned" if comment.pinned else "Yes"

    @admin.display(description="Answer")
    def answer_link(self, comment):
        """A link to answer each top-level comment readers see (from the row alone: no query)."""
        if comment.parent_id or not comment.is_public or not comment.article.is_published:
            return ""
        url = reverse("admin:comments_comment_answer", args=[comment.pk])
        return format_html('<a href="{}">Answer</a>', url)

    @admin.display(description="Article", ordering="article__title")
    def article_title(self, comment):
        return comment.article.title

    def view_on_site(self, comment):
        return comment.get_absolute_url() if comment.is_public else None

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            obj.moderated_by = request.user
            obj.moderated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(permissions=["change"], description="Approve selected comments")
    def approve_comments(self, request, queryset):
        set_status(self, request, queryset, Comment.Status.APPROVED, "approved")

    @admin.action(permissions=["change"], description="Reject selected comments")
    def reject_comments(self, request, queryset):
        set_status(self, request, queryset, Comment.Status.REJECTED, "rejected")

    @admin.action(permissions=["change"], description="Mark selected comments as spam")
    def mark_as_spam(self, request, queryset):
        set_status(self, request, queryset, Comment.Status.SPAM, "marked as spam")

    @admin.action(permissions=["answer"], description="Pin the answer to the top of its thread")
    def pin_answers(self, request, queryset):
        """Pin the selected staff answers, one per article (the newest selected of each)."""
        selected = queryset.count()
        published = queryset.filter(is_staff_answer=True, status=Comment.Status.APPROVED)
        chosen = {}
        for answer in published.order_by("-created_at", "-pk").only("pk", "article_id"):
            chosen.setdefault(answer.article_id, answer)
        for answer in chosen.values():
            answers.pin_answer(answer)
        pinned, skipped = len(chosen), selected - published.count()
        said = [
            f"{pinned} answer{'s' if pinned != 1 else ''} pinned to the top of the thread: "
            "an article shows one pinned answer, so any other one on the same article is unpinned."
        ]
        if skipped:
            verb = "are" if skipped != 1 else "is"
            said.append(
                f"{skipped} of the selected comments {verb} not a published staff answer: left as it was."
            )
        self.message_user(request, " ".join(said), messages.SUCCESS if pinned else messages.WARNING)

    @admin.action(permissions=["answer"], description="Unpin the answer")
    def unpin_answers(self, request, queryset):
        unpinned = queryset.filter(pinned=True).update(pinned=False)
        if unpinned:
            self.message_user(request, f"{unpinned} answer{'s' if unpinned != 1 else ''} unpinned.")
        else:
            self.message_user(request, "None of the selected comments was pinned.", messages.WARNING)

    # Answering ----------------------------------------------------------------------------------

    def get_urls(self):
        answer = self.admin_site.admin_view(self.answer_view)
        return [path("<path:object_id>/answer/", answer, name="comments_comment_answer"), *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_answer_permission(request) and answers.refusal_reason(obj) is None:
            context["answer_url"] = reverse("admin:comments_comment_answer", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def answer_view(self, request, object_id):
        """Answer one comment as staff: GET shows the comment and the form, POST publishes the
        answer (comments.answers.publish_answer). The reply page's staff form posts here too,
        with next=article to be sent back to the answer on the article."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        if not self.has_answer_permission(request):
            raise PermissionDenied
        comments = self.get_queryset(request).select_related("article", "parent")
        comment = comments.filter(pk=as_id(unquote(object_id))).first()
        if comment is None:
            self.message_user(
                request, "That comment does not exist: it may have been deleted.", messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:comments_comment_changelist"))
        next_page = request.POST.get("next") if request.POST.get("next") in AFTER_ANSWERING else ""
        refusal = answers.refusal_reason(comment)
        form = StaffAnswerForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            if refusal:
                status = 409
            elif not form.is_valid():
                status = 400  # as the site's other forms sent back with errors
            else:
                try:
                    answer = publish_answer(comment, request.user, **form.cleaned_data)
                except AlreadyAnswered as already:
                    return self.answer_published(request, comment, already.answer, next_page, again=True)
                except AnswerRefused as refused:
                    refusal, status = str(refused), 409
                else:
                    return self.answer_published(request, comment, answer, next_page)
        top = comment.parent if comment.parent_id else comment
        context = {
            **self.admin_site.each_context(request),
            "title": f"Answer {comment.author_name}’s comment",
            "opts": self.opts,
            "has_view_permission": self.has_view_permission(request),
            "comment": comment,
            "top": top,
            "refusal": refusal,
            "form": None if refusal else form,
            "next": next_page,
            "staff_answers": list(Comment.objects.approved().filter(parent=top, is_staff_answer=True)),
        }
        return TemplateResponse(request, "admin/comments/comment/answer.html", context, status=status)

    def answer_published(self, request, question, answer, next_page, again=False):
        """Where the answer's author goes once it is published: to it on the article, from the
        reply page; else back to the queue, with a link to it."""
        permalink = answer.get_absolute_url()
        if next_page == "article":
            messages.success(request, "You had already published this answer." if again else
                             "Your answer is published.")  # fmt: skip
            return HttpResponseSeeOther(permalink)
        said = "You had already published this answer to" if again else "Your answer to"
        link = format_html('<a href="{}">see it on the site</a>', permalink)
        self.message_user(
            request, format_html("{} {}’s comment is published: {}.", said, question.author_name, link)
        )
        return HttpResponseRedirect(reverse("admin:comments_comment_changelist"))


@admin.register(BlockedPhrase)
class BlockedPhraseAdmin(LenientChangeListMixin, admin.ModelAdmin):
    list_display = ["phrase", "note", "created_at"]
    search_fields = ["phrase", "note"]


def comment_count(status):
    """Comments of one status per article, as a subquery (no join, no per-row query)."""
    counts = (
        Comment.objects.filter(article=OuterRef("pk"), status=status)
        .order_by()
        .values("article")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


class CommentThreadActions:
    """Open/close actions and comment counts, for any admin of articles.

    The actions need `comments.change_commentthread`, which moderators have
    without any right to change an article's content.
    """

    def has_change_thread_permission(self, request, obj=None):
        return request.user.has_perm("comments.change_commentthread")

    def with_comment_counts(self, queryset):
        return queryset.annotate(
            pending_total=comment_count(Comment.Status.PENDING),
            approved_total=F("approved_comment_count"),  # kept by comments.models
        )

    @admin.display(description="Pending", ordering="pending_total")
    def pending_comments(self, article):
        if not article.pending_total:
            return 0
        url = reverse("admin:comments_comment_changelist")
        return format_html(
            '<a href="{}?status=pending&amp;article={}">{}</a>', url, article.pk, article.pending_total
        )

    @admin.display(description="Approved", ordering="approved_total")
    def approved_comments(self, article):
        return article.approved_total

    @admin.display(boolean=True, description="Thread open now")
    def thread_open(self, article):
        return thread_is_open(article)

    @admin.action(permissions=["change_thread"], description="Close comments on selected articles")
    def close_comments(self, request, queryset):
        updated = queryset.set_comments_open(False)
        self.message_user(request, f"Comments closed on {updated} article{'s' if updated != 1 else ''}.")

    @admin.action(permissions=["change_thread"], description="Open comments on selected articles")
    def open_comments(self, request, queryset):
        updated = queryset.set_comments_open(True)
        self.message_user(
            request,
            f"Comments opened on {updated} article{'s' if updated != 1 else ''}. "
            "A close date that has passed still keeps a thread closed.",
        )


@admin.register(CommentThread)
class CommentThreadAdmin(CommentThreadActions, LenientChangeListMixin, admin.ModelAdmin):
    """Each article as a comment thread: moderators open and close it, nothing more."""

    list_display = [
        "title",
        "comments_open",
        "comments_close_at",
        "thread_open",
        "pending_comments",
        "approved_comments",
    ]
    list_filter = ["comments_open"]
    search_fields = ["title"]
    show_full_result_count = False
    actions = ["close_comments", "open_comments"]
    fields = ["title", "status", "published_at", "comments_open", "comments_close_at"]
    readonly_fields = ["title", "status", "published_at"]

    def get_queryset(self, request):
        return self.with_comment_counts(super().get_queryset(request)).only(
            "pk", "title", "slug", "status", "published_at", "comments_open", "comments_close_at"
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Only the thread's fields: closing comments is not an edit of the article.
        obj.save(update_fields=["comments_open", "comments_close_at"])


class ArticleWithThreadAdmin(CommentThreadActions, ArticleAdmin):
    """The articles app's admin of articles, with each article's comment thread: counts
    of pending and approved comments, and the actions that open and close threads."""

    actions = [*ArticleAdmin.actions, "close_comments", "open_comments"]
    list_display = [*ArticleAdmin.list_display[:-1], "pending_comments", "approved_comments",
                    ArticleAdmin.list_display[-1]]  # fmt: skip

    def get_queryset(self, request):
        return self.with_comment_counts(super().get_queryset(request))

    def get_deleted_objects(self, objs, request):
        # An article's comments go with it: deleting an article needs no comment permission.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(Comment._meta.verbose_name)
        return deleted, counts, perms_needed, protected


admin.site.unregister(Article)
admin.site.register(Article, ArticleWithThreadAdmin)


@admin.register(PersonalDataRequest)
class PersonalDataRequestAdmin(admin.ModelAdmin):
    """Export or erase a commenter's data ("Add"), and the record of each time it was done.

    Superusers and Moderators only (the permission comments.handle_personal_data). The record
    is kept as it was written: nobody changes or deletes it here."""

    list_display = ["done_at", "action", "rows", "done_by", "email_digest"]
    list_filter = ["action"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return request.user.has_perm("comments.handle_personal_data")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("comments.handle_personal_data")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PersonalDataForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            email, action = form.cleaned_data["email"], form.cleaned_data["action"]
            if action == PersonalDataRequest.Action.EXPORT:
                return self.export(request, email)
            count = personal_data.erase(email, delete=action == PersonalDataRequest.Action.DELETE)
            personal_data.record(action, email, count, request.user)
            verb = "Deleted" if action == PersonalDataRequest.Action.DELETE else "Anonymized"
            self.message_user(request, f"{verb} {count} comment{'s' if count != 1 else ''} by {email}.",
                              messages.SUCCESS)  # fmt: skip
            return HttpResponseRedirect(reverse("admin:comments_personaldatarequest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Export or erase a commenter's personal data",
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        }
        return TemplateResponse(
            request, "admin/comments/personal_data.html", context, status=400 if form.errors else 200
        )

    def export(self, request, email):
        data = personal_data.export(email)
        personal_data.record(PersonalDataRequest.Action.EXPORT, email, len(data["comments"]), request.user)
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = 'attachment; filename="smpinfo-personal-data.json"'
        add_never_cache_headers(response)
        return response
