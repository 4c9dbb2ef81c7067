"""Who may do what in the admin: every role against every admin page, form and action.

The expectations are written out as tables, one row per page (or form, or action) and one column
per role, from the README ("Accounts: admin, editor, moderator", "Comments and moderation") and the
groups' permissions that the data migrations create (articles/migrations/0002_create_roles.py,
comments/migrations/0002_moderation_roles.py):

- anonymous and readers (active, not staff) reach nothing: the admin sends them to its login page;
- a staff user in no group yet (README: tick "Staff status", then pick a group) sees the admin's
  index and nothing else;
- editors add, change and delete articles and their side effects, read comments, open and close threads;
- moderators read articles, read, change and delete comments, keep the blocklist, open and close
  threads, and never change an article's content;
- superusers do everything.

A view-only user gets a change page read-only (200), but posting to it is refused (403).
"""

from datetime import timedelta

import pytest
import reversion
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone
from reversion.models import Version

from articles.models import Article
from comments.models import BlockedPhrase, Comment, CommentThread
from tests.factories import (
    ArticleFactory,
    CommentFactory,
    SideEffectFactory,
    UserFactory,
    admin_article_form_data,
    admin_comment_form_data,
    ensure_roles,
)

pytestmark = pytest.mark.django_db

# The columns of every table below, in this order.
ROLES = ("anonymous", "reader", "staff", "editor", "moderator", "superuser")
ROLE_ACCOUNTS = {
    "reader": {"is_staff": False},  # an active account, not staff
    "staff": {"is_staff": True},  # staff but in no group yet, as README's "add a user" leaves them
    "editor": {"is_staff": True, "groups": ["Editors"]},
    "moderator": {"is_staff": True, "groups": ["Moderators"]},
    "superuser": {"is_staff": True, "is_superuser": True},
}
LOGIN = "login"  # a redirect (302) to the admin's login page, with ?next= back to the page

ARTICLES = "/admin/articles/article/"
COMMENTS = "/admin/comments/comment/"
THREADS = "/admin/comments/commentthread/"
PHRASES = "/admin/comments/blockedphrase/"

# Where each page is; {article}, {comment}, ... are the ids of the objects the `world` fixture makes.
PAGE_URLS = {
    "admin index": "/admin/",
    "articles app index": "/admin/articles/",
    "article changelist": ARTICLES,
    "article add": ARTICLES + "add/",
    "article change": ARTICLES + "{article}/change/",
    "article delete": ARTICLES + "{article}/delete/",
    "article history": ARTICLES + "{article}/history/",
    "article revision": ARTICLES + "{article}/history/{version}/",
    "article compare": ARTICLES + "{article}/history/compare/?version_id1={version}&version_id2={version2}",
    "article recover list": ARTICLES + "recover/",
    "side effect changelist": "/admin/articles/sideeffect/",
    "comments app index": "/admin/comments/",
    "comment changelist": COMMENTS,
    "comment add": COMMENTS + "add/",
    "comment change": COMMENTS + "{comment}/change/",
    "comment delete": COMMENTS + "{comment}/delete/",
    "comment history": COMMENTS + "{comment}/history/",
    "thread changelist": THREADS,
    "thread add": THREADS + "add/",
    "thread change": THREADS + "{article}/change/",
    "thread delete": THREADS + "{article}/delete/",
    "blocked phrase changelist": PHRASES,
    "blocked phrase add": PHRASES + "add/",
    "blocked phrase change": PHRASES + "{phrase}/change/",
    "blocked phrase delete": PHRASES + "{phrase}/delete/",
    "auth app index": "/admin/auth/",
    "user changelist": "/admin/auth/user/",
    "user change": "/admin/auth/user/{reader}/change/",
    "group changelist": "/admin/auth/group/",
    "group change": "/admin/auth/group/{moderators}/change/",
}

# fmt: off
# GET of each admin page: the status, or LOGIN. A change page is read-only (200) for view-only users.
PAGES = [
    # page                        anonymous reader  staff  editor moderator superuser
    ("admin index",               LOGIN,    LOGIN,  200,   200,   200,      200),
    ("articles app index",        LOGIN,    LOGIN,  404,   200,   200,      200),
    ("article changelist",        LOGIN,    LOGIN,  403,   200,   200,      200),
    ("article add",               LOGIN,    LOGIN,  403,   200,   403,      200),
    ("article change",            LOGIN,    LOGIN,  403,   200,   200,      200),
    ("article delete",            LOGIN,    LOGIN,  403,   200,   403,      200),
    ("article history",           LOGIN,    LOGIN,  403,   200,   200,      200),
    ("article revision",          LOGIN,    LOGIN,  403,   200,   200,      200),
    ("article compare",           LOGIN,    LOGIN,  403,   200,   200,      200),
    ("article recover list",      LOGIN,    LOGIN,  403,   200,   403,      200),
    ("side effect changelist",    LOGIN,    LOGIN,  404,   404,   404,      404),  # inline only
    ("comments app index",        LOGIN,    LOGIN,  404,   200,   200,      200),
    ("comment changelist",        LOGIN,    LOGIN,  403,   200,   200,      200),
    ("comment add",               LOGIN,    LOGIN,  403,   403,   403,      403),  # disabled
    ("comment change",            LOGIN,    LOGIN,  403,   200,   200,      200),
    ("comment delete",            LOGIN,    LOGIN,  403,   403,   200,      200),
    ("comment history",           LOGIN,    LOGIN,  403,   200,   200,      200),
    ("thread changelist",         LOGIN,    LOGIN,  403,   200,   200,      200),
    ("thread add",                LOGIN,    LOGIN,  403,   403,   403,      403),  # disabled
    ("thread change",             LOGIN,    LOGIN,  403,   200,   200,      200),
    ("thread delete",             LOGIN,    LOGIN,  403,   403,   403,      403),  # disabled
    ("blocked phrase changelist", LOGIN,    LOGIN,  403,   403,   200,      200),
    ("blocked phrase add",        LOGIN,    LOGIN,  403,   403,   200,      200),
    ("blocked phrase change",     LOGIN,    LOGIN,  403,   403,   200,      200),
    ("blocked phrase delete",     LOGIN,    LOGIN,  403,   403,   200,      200),
    ("auth app index",            LOGIN,    LOGIN,  404,   404,   404,      200),
    ("user changelist",           LOGIN,    LOGIN,  403,   403,   403,      200),
    ("user change",               LOGIN,    LOGIN,  403,   403,   403,      200),
    ("group changelist",          LOGIN,    LOGIN,  403,   403,   403,      200),
    ("group change",              LOGIN,    LOGIN,  403,   403,   403,      200),
]

# POST of each admin form: did it change the database? (`form_request` says how each is sent and told.)
FORMS = [
    # form                                       anonymous reader staff  editor moderator superuser
    ("article change: new title and body",       False,    False, False, True,  False,    True),
    ("article add",                              False,    False, False, True,  False,    True),
    ("article delete (it has no comments)",      False,    False, False, True,  False,    True),
    ("article delete (it has a comment)",        False,    False, False, True,  False,    True),
    ("article revert to its first revision",     False,    False, False, True,  False,    True),
    ("comment change: edited body",              False,    False, False, False, True,     True),
    ("comment delete",                           False,    False, False, False, True,     True),
    ("thread change: closed (and a new title)",  False,    False, False, True,  True,     True),
    ("blocked phrase add",                       False,    False, False, False, True,     True),
    ("group change: Moderators get every perm",  False,    False, False, False, False,    True),
]

# Admin actions, posted to a changelist with one object selected: did the database change?
ACTIONS = [
    # action              changelist  anonymous reader staff  editor moderator superuser
    ("approve_comments",  COMMENTS,   False,    False, False, False, True,     True),
    ("reject_comments",   COMMENTS,   False,    False, False, False, True,     True),
    ("mark_as_spam",      COMMENTS,   False,    False, False, False, True,     True),
    ("close_comments",    ARTICLES,   False,    False, False, True,  True,     True),
    ("open_comments",     ARTICLES,   False,    False, False, True,  True,     True),
    ("close_comments",    THREADS,    False,    False, False, True,  True,     True),
    ("open_comments",     THREADS,    False,    False, False, True,  True,     True),
]
# fmt: on


def by_role(rows, *, columns_from):
    """One pytest case per (row, role), with the cell of the table as the expectation."""
    cases = []
    for row in rows:
        for index, role in enumerate(ROLES):
            expected = row[columns_from + index]
            cases.append(pytest.param(*row[:columns_from], role, expected, id=f"{row[0]}-{role}"))
    return cases


def browser_for(role):
    browser = Client()
    if role != "anonymous":
        username = f"matrix-{role}"
        browser.force_login(UserFactory(username=username, **ROLE_ACCOUNTS[role]))
    return browser


def assert_outcome(response, expected, url):
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(f"/admin/login/?next={url.split('?')[0]}")
    else:
        assert response.status_code == expected


@pytest.fixture
def world(db):
    """An article with a side effect and two revisions, a pending comment, a blocked phrase, a reader."""
    ensure_roles()  # in case a transactional test emptied the tables the data migrations filled
    with reversion.create_revision():
        article = ArticleFactory(title="Original title", body="Original body.", comments_open=True)
        SideEffectFactory(article=article, name="Redness", order=1)
    with reversion.create_revision():
        article.summary = "A second revision."
        article.save()
    first, second = sorted(Version.objects.get_for_object(article), key=lambda version: version.pk)
    comment = CommentFactory(article=article, body="Original comment.", status=Comment.Status.PENDING)
    phrase = BlockedPhrase.objects.create(phrase="cheap pills")
    reader = UserFactory(username="someone-else", is_staff=False)
    return {
        "article": article,
        "comment": comment,
        "ids": {
            "article": article.pk,
            "comment": comment.pk,
            "phrase": phrase.pk,
            "version": first.pk,
            "version2": second.pk,
            "reader": reader.pk,
            "moderators": Group.objects.get(name="Moderators").pk,
        },
    }


# Pages ---------------------------------------------------------------------------------------------


def snapshot():
    """Everything an admin page could change by mistake."""
    return (
        list(Article.objects.values_list("pk", "title", "body", "summary", "status", "comments_open")),
        list(Comment.objects.values_list("pk", "body", "status")),
        list(BlockedPhrase.objects.values_list("pk", "phrase")),
        Version.objects.count(),
    )


@pytest.mark.parametrize(("page", "role", "expected"), by_role(PAGES, columns_from=1))
def test_admin_page(world, page, role, expected):
    url = PAGE_URLS[page].format(**world["ids"])
    before = snapshot()

    response = browser_for(role).get(url)

    assert_outcome(response, expected, url)
    assert snapshot() == before  # looking changes nothing (the revision page reverts in a rollback)


# Forms ---------------------------------------------------------------------------------------------


def form_request(world, form):
    """(url, data, changed): where the form posts, what it sends, and how to tell it took effect."""
    article, comment, ids = world["article"], world["comment"], world["ids"]

    def article_now():
        return Article.objects.get(pk=article.pk)

    def article_gone():
        return not Article.objects.filter(pk=article.pk).exists()

    if form == "article change: new title and body":
        data = admin_article_form_data(article, title="Changed title", body="Changed body.")
        return f"{ARTICLES}{article.pk}/change/", data, lambda: article_now().title == "Changed title"
    if form == "article add":
        data = admin_article_form_data(title="Brand new", slug="brand-new")
        return f"{ARTICLES}add/", data, lambda: Article.objects.filter(slug="brand-new").exists()
    if form == "article delete (it has no comments)":
        Comment.objects.filter(article=article).delete()
        return f"{ARTICLES}{article.pk}/delete/", {"post": "yes"}, article_gone
    if form == "article delete (it has a comment)":
        return f"{ARTICLES}{article.pk}/delete/", {"post": "yes"}, article_gone
    if form == "article revert to its first revision":
        Article.objects.filter(pk=article.pk).update(summary="Edited since.")
        data = admin_article_form_data(
            article_now(), summary="A short summary for readers and search engines."
        )
        url = f"{ARTICLES}{article.pk}/history/{ids['version']}/"
        return url, data, lambda: article_now().summary != "Edited since."
    if form == "comment change: edited body":
        data = admin_comment_form_data(comment, body="Edited by staff.")
        return (
            f"{COMMENTS}{comment.pk}/change/",
            data,
            lambda: Comment.objects.get(pk=comment.pk).body == "Edited by staff.",
        )
    if form == "comment delete":
        return (
            f"{COMMENTS}{comment.pk}/delete/",
            {"post": "yes"},
            lambda: not Comment.objects.filter(pk=comment.pk).exists(),
        )
    if form == "thread change: closed (and a new title)":
        # The "comments open" box left unticked; the title is read-only on this form.
        data = {"title": "Hijacked title", "comments_close_at_0": "", "comments_close_at_1": ""}
        return f"{THREADS}{article.pk}/change/", data, lambda: not article_now().comments_open
    if form == "blocked phrase add":
        return (
            f"{PHRASES}add/",
            {"phrase": "buy now", "note": ""},
            lambda: BlockedPhrase.objects.filter(phrase="buy now").exists(),
        )
    if form == "group change: Moderators get every perm":
        everything = list(Permission.objects.values_list("pk", flat=True))
        return (
            f"/admin/auth/group/{ids['moderators']}/change/",
            {"name": "Moderators", "permissions": [str(pk) for pk in everything]},
            lambda: Group.objects.get(name="Moderators").permissions.count() == len(everything),
        )
    raise AssertionError(form)


@pytest.mark.parametrize(("form", "role", "expected_change"), by_role(FORMS, columns_from=1))
def test_admin_form_post(world, form, role, expected_change):
    url, data, changed = form_request(world, form)
    assert not changed()

    response = browser_for(role).post(url, data)

    assert response.status_code in (302, 403), response.content.decode()[:2000]
    assert changed() is expected_change
    if role in ("anonymous", "reader"):
        assert_outcome(response, LOGIN, url)
    elif not expected_change:
        assert response.status_code == 403
    # Whatever happened, only an article form can change an article's title or body.
    if not form.startswith("article"):
        article = Article.objects.get(pk=world["article"].pk)
        assert (article.title, article.body) == ("Original title", "Original body.")


# Actions -------------------------------------------------------------------------------------------


ACTION_EFFECTS = {
    # action: (the state before, the state after it took effect): a comment's status or a thread's open box
    "approve_comments": (Comment.Status.PENDING, Comment.Status.APPROVED),
    "reject_comments": (Comment.Status.PENDING, Comment.Status.REJECTED),
    "mark_as_spam": (Comment.Status.PENDING, Comment.Status.SPAM),
    "close_comments": (True, False),
    "open_comments": (False, True),
}


@pytest.mark.parametrize(
    ("action", "changelist", "role", "expected_change"), by_role(ACTIONS, columns_from=2)
)
def test_admin_action(world, action, changelist, role, expected_change):
    before, after = ACTION_EFFECTS[action]
    if changelist == COMMENTS:
        target = world["comment"]
        Comment.objects.filter(pk=target.pk).update(status=before)

        def state():
            return Comment.objects.get(pk=target.pk).status

    else:
        target = world["article"]
        Article.objects.filter(pk=target.pk).update(comments_open=before)

        def state():
            return Article.objects.get(pk=target.pk).comments_open

    response = browser_for(role).post(
        # ?status=all: the comment queue lists only pending comments unless asked otherwise.
        f"{changelist}?status=all" if changelist == COMMENTS else changelist,
        {"action": action, ACTION_CHECKBOX_NAME: [str(target.pk)], "index": "0"},
    )

    if role in ("anonymous", "reader"):
        assert_outcome(response, LOGIN, changelist)
    elif role == "staff":
        assert response.status_code == 403  # not even the list
    else:
        # Done: back to the list (302). An action the user may not run is not even offered: the
        # list is shown again (200).
        assert response.status_code in (200, 302)
    assert state() == (after if expected_change else before)
    article = Article.objects.get(pk=world["article"].pk)
    assert (article.title, article.body) == ("Original title", "Original body.")
    if expected_change and changelist == COMMENTS:
        comment = Comment.objects.get(pk=target.pk)
        assert comment.moderated_by.username == f"matrix-{role}"
        assert comment.moderated_at is not None


# The article's content is out of a moderator's reach ---------------------------------------------------


def test_moderator_cannot_change_an_article_through_its_change_form(world):
    article = world["article"]
    moderator = browser_for("moderator")

    response = moderator.post(
        f"{ARTICLES}{article.pk}/change/",
        admin_article_form_data(
            article, title="Moderated title", body="Moderated body.", **{"side_effects-0-DELETE": "on"}
        ),
    )

    assert response.status_code == 403
    article.refresh_from_db()
    assert (article.title, article.body) == ("Original title", "Original body.")
    assert article.side_effects.count() == 1


@pytest.mark.parametrize("role", ["moderator", "editor"])
def test_the_thread_form_changes_only_the_thread(world, role):
    article = world["article"]
    close_at = timezone.now() + timedelta(days=3)

    response = browser_for(role).post(
        f"{THREADS}{article.pk}/change/",
        {
            "title": "New title from the thread form",
            "body": "New body from the thread form.",
            "status": Article.Status.DRAFT,
            "comments_close_at_0": timezone.localtime(close_at).strftime("%Y-%m-%d"),
            "comments_close_at_1": "12:00:00",
        },
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.body, article.status) == (
        "Original title",
        "Original body.",
        Article.Status.PUBLISHED,
    )
    assert article.comments_open is False
    assert article.comments_close_at is not None
    assert CommentThread.objects.get(pk=article.pk).title == "Original title"


def test_moderator_cannot_restore_an_article_revision(world):
    article = world["article"]
    Article.objects.filter(pk=article.pk).update(title="Edited title")
    first_revision = f"{ARTICLES}{article.pk}/history/{world['ids']['version']}/"

    response = browser_for("moderator").post(
        first_revision, admin_article_form_data(Article.objects.get(pk=article.pk))
    )

    assert response.status_code == 403
    assert Article.objects.get(pk=article.pk).title == "Edited title"
    assert Version.objects.get_for_object(article).count() == 2  # no new revision recorded either
