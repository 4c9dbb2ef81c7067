"""Editorial trust seen by readers: bylines, author profiles, structured data, feeds,
the sitemap, the site pages (About, Editorial policy, Privacy) and what the seed loads.

Tests of the page cache's freshness use a transactional database: cached pages are
retired when a change commits, as on the real site.
"""

import json
import re
from datetime import timedelta
from io import StringIO

import feedparser
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import strip_tags

from articles.models import Article, ArticleAuthor, Author, SitePage
from comments.management.commands.purge_comment_ips import Command as PurgeCommentIps
from tests.factories import ArticleFactory, AuthorFactory, UserFactory, ensure_roles

pytestmark = pytest.mark.django_db

SITE_PAGES = {
    "/about/": "About smpinfo",
    "/editorial-policy/": "Editorial policy",
    "/privacy/": "Privacy",
}
TEAM_SLUG = "smpinfo-editorial-team"
SEED_SLUGS = ["side-effects-of-scalp-micropigmentation", "what-is-scalp-micropigmentation"]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def text_of(html):
    return " ".join(strip_tags(html).split())


def byline_of(html):
    """The article page's byline element, as HTML."""
    match = re.search(r'<p class="byline[^"]*">(.*?)</p>', html, re.DOTALL)
    assert match, "the page has no byline"
    return match.group(1)


def links_of(html):
    """[(href, text)] of the links in `html`, in order."""
    return re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)


def h1_of(html):
    return text_of(re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL).group(1))


def json_ld(html):
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1))


def signed(author, *, order=0, **article_fields):
    """A published article whose byline is `author`."""
    article = ArticleFactory(**article_fields)
    ArticleAuthor.objects.create(article=article, author=author, order=order)
    return article


def seed():
    call_command("seed_content", stdout=StringIO())


def seeded_rows():
    """What seed_content writes, as the database holds it."""
    return {
        "authors": list(
            Author.objects.order_by("pk").values_list("pk", "name", "slug", "credentials", "bio")
        ),
        "bylines": list(
            ArticleAuthor.objects.order_by("pk").values_list("pk", "article__slug", "author__slug")
        ),
        "articles": list(
            Article.objects.order_by("pk").values_list("pk", "slug", "header_html", "byline", "updated_at")
        ),
        "pages": list(
            SitePage.objects.order_by("pk").values_list("pk", "slug", "title", "body", "updated_at")
        ),
    }


# Bylines on the article page ------------------------------------------------------------------


def test_article_page_shows_the_byline_with_credentials_and_profile_links(client):
    amy = AuthorFactory(name="Amy Adams", slug="amy-adams", credentials="MD, dermatologist")
    team = AuthorFactory(name="SMP Clinic team", slug="clinic-team", credentials="", is_organization=True)
    article = ArticleFactory()
    article.authors.add(amy, through_defaults={"order": 1})
    article.authors.add(team, through_defaults={"order": 2})

    byline = byline_of(html_of(client, article.get_absolute_url()))

    assert text_of(byline) == "By Amy Adams, MD, dermatologist and SMP Clinic team"
    assert links_of(byline) == [
        ("/authors/amy-adams/", "Amy Adams"),
        ("/authors/clinic-team/", "SMP Clinic team"),
    ]


def test_byline_lists_several_authors_in_their_order_not_the_order_they_were_added(client):
    article = ArticleFactory()
    for name, order in [("Cara Third", 3), ("Abe First", 1), ("Ben Second", 2)]:
        author = AuthorFactory(name=name, slug=name.lower().replace(" ", "-"), credentials="")
        ArticleAuthor.objects.create(article=article, author=author, order=order)

    byline = byline_of(html_of(client, article.get_absolute_url()))

    assert [name for _, name in links_of(byline)] == ["Abe First", "Ben Second", "Cara Third"]
    assert text_of(byline) == "By Abe First; Ben Second and Cara Third"


def test_an_article_without_authors_shows_no_byline(client):
    html = html_of(client, ArticleFactory().get_absolute_url())

    assert 'class="byline' not in html


def test_an_author_name_is_shown_as_text_in_the_byline(client):
    author = AuthorFactory(name="<b>Bold</b> & Co", slug="bold", credentials="<i>MD</i>")
    article = signed(author)

    byline = byline_of(html_of(client, article.get_absolute_url()))

    assert "<b>" not in byline and "<i>" not in byline
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in byline
    assert "&lt;i&gt;MD&lt;/i&gt;" in byline


def test_deleting_an_author_removes_them_from_the_byline(client):
    kept = AuthorFactory(name="Kept Writer", slug="kept")
    gone = AuthorFactory(name="Gone Writer", slug="gone")
    article = signed(kept, order=1)
    ArticleAuthor.objects.create(article=article, author=gone, order=2)

    gone.delete()

    byline = byline_of(html_of(client, article.get_absolute_url()))
    assert "Kept Writer" in byline
    assert "Gone Writer" not in byline


def test_article_page_with_four_authors_stays_within_the_query_budget(client, django_assert_max_num_queries):
    article = ArticleFactory(side_effects=3)
    for order in range(4):
        author = AuthorFactory(name=f"Budget Writer {order}", slug=f"budget-{order}")
        ArticleAuthor.objects.create(article=article, author=author, order=order)

    with django_assert_max_num_queries(5):
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert len(links_of(byline_of(response.content.decode()))) == 4


# Author profiles ----------------------------------------------------------------------------------


def test_author_profile_shows_name_credentials_and_bio_from_markdown(client):
    bio = "Writes about the *skin* and [healing](https://example.org/healing)."
    AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD, dermatologist", bio=bio)

    html = html_of(client, "/authors/lee-chen/")

    assert h1_of(html) == "Dr Lee Chen"
    assert "MD, dermatologist" in text_of(html)
    assert "<em>skin</em>" in html
    assert re.search(r'<a href="https://example.org/healing"[^>]*>healing</a>', html)


def test_a_script_in_an_author_bio_never_reaches_the_profile(client):
    AuthorFactory(slug="sneaky", bio='Hello <script>alert("bio")</script> <img src=x onerror="alert(2)">')

    html = html_of(client, "/authors/sneaky/")

    assert 'alert("bio")</script>' not in html
    assert "<script>alert" not in html
    assert "onerror" not in html


def test_author_profile_lists_only_their_published_articles(client):
    author = AuthorFactory(slug="lister")
    signed(author, title="Out now")
    signed(author, title="Still a draft", status=Article.Status.DRAFT)
    signed(author, title="Coming soon", published_at=timezone.now() + timedelta(days=1))
    ArticleFactory(title="Someone else's article")

    html = html_of(client, "/authors/lister/")

    assert "Out now" in html
    assert "Still a draft" not in html
    assert "Coming soon" not in html
    assert "Someone else" not in html


def test_author_profile_paginates_ten_articles_a_page_newest_first(client):
    author = AuthorFactory(slug="prolific")
    for number in range(12):
        signed(author, title=f"Piece {number:02d}", published_at=timezone.now() - timedelta(days=number + 1))

    first = html_of(client, "/authors/prolific/")
    second = html_of(client, "/authors/prolific/?page=2")

    assert re.findall(r"Piece \d\d", first) == [f"Piece {number:02d}" for number in range(10)]
    assert re.findall(r"Piece \d\d", second) == ["Piece 10", "Piece 11"]


def test_unknown_author_is_404(client):
    assert client.get("/authors/nobody-here/").status_code == 404


def test_author_profile_query_count_does_not_grow_with_articles(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    one, ten = AuthorFactory(slug="one-article"), AuthorFactory(slug="ten-articles")
    signed(one)
    for _ in range(10):
        signed(ten)

    counts = []
    for url in ("/authors/one-article/", "/authors/ten-articles/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# Structured data --------------------------------------------------------------------------------


def test_json_ld_names_people_with_job_title_and_organizations_with_profile_urls(client):
    person = AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD, dermatologist")
    clinic = AuthorFactory(
        name="SMP Clinic", slug="smp-clinic", credentials="Accredited clinic", is_organization=True
    )
    article = signed(person, order=1)
    ArticleAuthor.objects.create(article=article, author=clinic, order=2)

    data = json_ld(html_of(client, article.get_absolute_url()))

    assert data["author"] == [
        {
            "@type": "Person",
            "name": "Dr Lee Chen",
            "url": "http://testserver/authors/lee-chen/",
            "jobTitle": "MD, dermatologist",
        },
        {
            "@type": "Organization",
            "name": "SMP Clinic",
            "url": "http://testserver/authors/smp-clinic/",
            "description": "Accredited clinic",
        },
    ]


def test_json_ld_author_is_the_publisher_when_the_article_has_no_byline(client):
    data = json_ld(html_of(client, ArticleFactory().get_absolute_url()))

    assert data["author"] == data["publisher"]
    assert data["author"]["@type"] == "Organization"
    assert data["author"]["name"] == "smpinfo"


# Feeds ------------------------------------------------------------------------------------------


@pytest.fixture
def article_by_two(db):
    """A published article signed by two authors whose accounts have email addresses."""
    account = UserFactory(username="amy", email="amy@clinic.example")
    first = AuthorFactory(name="Amy Adams", slug="amy-adams", user=account)
    second = AuthorFactory(name="Ben Brown", slug="ben-brown", credentials="PhD")
    article = ArticleFactory(
        title="Signed twice", author=UserFactory(username="staff", email="staff@smp.example")
    )
    ArticleAuthor.objects.create(article=article, author=first, order=1)
    ArticleAuthor.objects.create(article=article, author=second, order=2)
    return article


def parsed_feed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content, response_headers={"content-type": response["Content-Type"]})
    assert not feed.bozo, feed.get("bozo_exception")
    return response.content.decode(), feed


def entry_titled(feed, title):
    return next(entry for entry in feed.entries if entry.title == title)


def test_rss_items_name_each_of_the_byline_as_dc_creator_and_no_email(client, article_by_two):
    ArticleFactory(title="Unsigned")

    xml, feed = parsed_feed(client, "/feed/")

    item = xml.split("<title>Signed twice</title>")[1].split("</item>")[0]
    assert re.findall(r"<dc:creator>([^<]*)</dc:creator>", item) == ["Amy Adams", "Ben Brown"]
    names = [author["name"] for author in entry_titled(feed, "Signed twice").authors]
    assert names == ["Amy Adams", "Ben Brown"]
    assert entry_titled(feed, "Unsigned").author == "smpinfo"
    assert not EMAIL.findall(xml)


def test_atom_entries_have_one_author_per_byline_name_and_the_feed_its_own(client, article_by_two):
    xml, feed = parsed_feed(client, "/feed/atom/")

    entry = entry_titled(feed, "Signed twice")
    assert [author["name"] for author in entry.authors] == ["Amy Adams", "Ben Brown"]
    assert feed.feed.author_detail["name"] == "smpinfo"
    assert xml.count("<author>") == 3  # the feed's, and one per name of the byline
    assert not EMAIL.findall(xml)


# Sitemap ----------------------------------------------------------------------------------------


def test_sitemap_lists_authors_with_published_articles_only(client):
    signed(AuthorFactory(slug="published-writer"))
    signed(AuthorFactory(slug="draft-writer"), status=Article.Status.DRAFT)
    signed(AuthorFactory(slug="scheduled-writer"), published_at=timezone.now() + timedelta(days=1))
    AuthorFactory(slug="idle-writer")

    xml = html_of(client, "/sitemap.xml")

    assert "<loc>http://testserver/authors/published-writer/</loc>" in xml
    assert "draft-writer" not in xml
    assert "scheduled-writer" not in xml
    assert "idle-writer" not in xml


def test_sitemap_lists_the_site_pages(client):
    seed()

    xml = html_of(client, "/sitemap.xml")

    for path in SITE_PAGES:
        assert f"<loc>http://testserver{path}</loc>" in xml


# Seed content -----------------------------------------------------------------------------------


def test_seed_creates_the_editorial_team_as_an_organization_without_credentials():
    seed()

    team = Author.objects.get(slug=TEAM_SLUG)
    assert team.name == "smpinfo editorial team"
    assert team.is_organization is True
    assert team.credentials == ""


def test_seed_signs_both_articles_with_the_editorial_team(client):
    seed()

    for slug in SEED_SLUGS:
        article = Article.objects.get(slug=slug)
        assert list(article.authors.values_list("slug", flat=True)) == [TEAM_SLUG]
        byline = byline_of(html_of(client, article.get_absolute_url()))
        assert links_of(byline) == [(f"/authors/{TEAM_SLUG}/", "smpinfo editorial team")]


def test_seed_creates_the_three_site_pages(client):
    seed()

    assert sorted(SitePage.objects.values_list("slug", flat=True)) == ["about", "editorial-policy", "privacy"]
    for path, title in SITE_PAGES.items():
        assert h1_of(html_of(client, path)) == title


def test_seed_run_twice_changes_nothing():
    seed()
    before = seeded_rows()

    seed()

    assert seeded_rows() == before
    assert Author.objects.count() == 1
    assert ArticleAuthor.objects.count() == 2
    assert SitePage.objects.count() == 3


def test_seed_signs_an_existing_seed_article_left_without_a_byline():
    seed()
    explainer = Article.objects.get(slug="what-is-scalp-micropigmentation")
    explainer.authors.clear()
    assert "byline" not in Article.objects.get(pk=explainer.pk).header_html

    seed()

    explainer = Article.objects.get(pk=explainer.pk)
    assert list(explainer.authors.values_list("slug", flat=True)) == [TEAM_SLUG]
    assert f"/authors/{TEAM_SLUG}/" in explainer.header_html


def test_seed_keeps_a_byline_an_editor_gave_a_seed_article():
    seed()
    article = Article.objects.get(slug="side-effects-of-scalp-micropigmentation")
    writer = AuthorFactory(name="Dr Lee Chen", slug="lee-chen")
    article.authors.set([writer])

    seed()

    assert list(article.authors.values_list("slug", flat=True)) == ["lee-chen"]


def test_seed_articles_json_ld_names_the_editorial_team_as_an_organization(client):
    seed()

    data = json_ld(html_of(client, "/articles/side-effects-of-scalp-micropigmentation/"))

    assert data["author"] == [
        {
            "@type": "Organization",
            "name": "smpinfo editorial team",
            "url": f"http://testserver/authors/{TEAM_SLUG}/",
        }
    ]


def test_how_we_review_link_of_an_article_reaches_its_section_of_the_editorial_policy(client):
    seed()
    article_page = html_of(client, "/articles/what-is-scalp-micropigmentation/")
    link = re.search(r'<a href="([^"#]+)#([^"]+)">How we review</a>', article_page)

    policy = html_of(client, link.group(1))

    assert link.group(1) == "/editorial-policy/"
    assert re.search(rf'<h2 id="{link.group(2)}">How articles are reviewed</h2>', policy)


def test_privacy_page_says_comment_addresses_are_deleted_after_the_purge_period(client):
    days = PurgeCommentIps().create_parser("manage.py", "purge_comment_ips").get_default("days")
    seed()

    text = text_of(html_of(client, "/privacy/"))

    assert days == 30
    assert f"IP address and browser help us stop spam and abuse. They are deleted {days} days after" in text


# Site pages -------------------------------------------------------------------------------------


def test_site_page_shows_its_title_and_body_from_markdown(client):
    SitePage.objects.create(title="Contact us", slug="contact", body="Write to **the editors**.")

    html = html_of(client, "/contact/")

    assert h1_of(html) == "Contact us"
    assert "<strong>the editors</strong>" in html


def test_unknown_site_page_is_404(client):
    assert client.get("/no-such-page/").status_code == 404


def test_footer_links_reach_about_editorial_policy_and_privacy(client):
    seed()

    footer = re.search(r"<footer.*?</footer>", html_of(client, "/"), re.DOTALL).group(0)
    links = {text: href for href, text in links_of(footer)}

    assert links["About"] == "/about/"
    assert links["Editorial policy"] == "/editorial-policy/"
    assert links["Privacy"] == "/privacy/"
    for path, title in SITE_PAGES.items():
        assert h1_of(html_of(client, path)) == title


def test_footer_of_an_author_profile_and_a_site_page_links_the_site_pages(client):
    AuthorFactory(slug="footer-writer")
    SitePage.objects.create(title="Contact us", slug="contact", body="Write to us.")

    for url in ("/authors/footer-writer/", "/contact/"):
        footer = re.search(r"<footer.*?</footer>", html_of(client, url), re.DOTALL).group(0)
        assert {href for href, _ in links_of(footer)} >= set(SITE_PAGES)


@pytest.mark.parametrize("slug", ["search", "feed", "admin"])
def test_site_page_admin_refuses_a_slug_another_page_takes_and_keeps_the_typed_body(editor_client, slug):
    response = editor_client.post(
        "/admin/articles/sitepage/add/",
        {"title": "Taken", "slug": slug, "body": "Words the editor typed."},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/{slug}/ is already an address of the site" in html
    assert "Words the editor typed." in html
    assert not SitePage.objects.exists()


def test_editor_adds_a_site_page_in_the_admin_and_readers_see_it(editor_client, client):
    response = editor_client.post(
        "/admin/articles/sitepage/add/",
        {"title": "Contact us", "slug": "contact", "body": "Write to *us*."},
    )

    assert response.status_code == 302
    html = html_of(client, "/contact/")
    assert h1_of(html) == "Contact us"
    assert "<em>us</em>" in html


# Author admin -----------------------------------------------------------------------------------


AUTHOR_FORM = {
    "name": "Dr Lee Chen",
    "slug": "lee-chen",
    "credentials": "MD, dermatologist",
    "bio": "Writes about the *skin*.",
    "user": "",
}


def test_editor_adds_an_author_through_the_admin_form(editor_client, client):
    response = editor_client.post("/admin/articles/author/add/", AUTHOR_FORM)

    assert response.status_code == 302
    author = Author.objects.get(slug="lee-chen")
    assert (author.name, author.credentials, author.is_organization) == (
        "Dr Lee Chen",
        "MD, dermatologist",
        False,
    )
    assert "<em>skin</em>" in html_of(client, "/authors/lee-chen/")


@pytest.mark.parametrize("browser", ["moderator_client", "reviewer_client"])
def test_moderators_and_reviewers_cannot_add_an_author(request, browser):
    staff = request.getfixturevalue(browser)

    assert staff.get("/admin/articles/author/add/").status_code == 403
    assert staff.post("/admin/articles/author/add/", AUTHOR_FORM).status_code == 403
    assert not Author.objects.filter(slug="lee-chen").exists()


@pytest.mark.parametrize("browser", ["moderator_client", "reviewer_client"])
def test_moderators_and_reviewers_can_view_but_not_change_an_author(request, browser):
    staff = request.getfixturevalue(browser)
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD")

    assert staff.get("/admin/articles/author/").status_code == 200
    response = staff.post(
        f"/admin/articles/author/{author.pk}/change/", {**AUTHOR_FORM, "credentials": "Changed"}
    )

    assert response.status_code == 403
    author.refresh_from_db()
    assert author.credentials == "MD"


def test_moderators_cannot_add_a_site_page(moderator_client):
    response = moderator_client.post(
        "/admin/articles/sitepage/add/", {"title": "Contact us", "slug": "contact", "body": "Hi."}
    )

    assert response.status_code == 403
    assert not SitePage.objects.exists()


# Fresh after a change, though cached ----------------------------------------------------------


def cached_html(url):
    """The page as an anonymous reader gets it, after checking it is now served from the cache."""
    first = Client().get(url)
    second = Client().get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second["X-Page-Cache"] == "hit"
    return second.content.decode()


@pytest.mark.django_db(transaction=True)
def test_author_credentials_edited_through_the_orm_show_at_once_on_cached_pages():
    ensure_roles()
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD")
    article = signed(author)
    for url in (article.get_absolute_url(), "/authors/lee-chen/"):
        assert "MD, dermatologist" not in cached_html(url)

    author.credentials = "MD, dermatologist"
    author.save()

    article_page = html_of(Client(), article.get_absolute_url())
    assert text_of(byline_of(article_page)) == "By Dr Lee Chen, MD, dermatologist"
    assert json_ld(article_page)["author"][0]["jobTitle"] == "MD, dermatologist"
    assert "MD, dermatologist" in text_of(html_of(Client(), "/authors/lee-chen/"))


@pytest.mark.django_db(transaction=True)
def test_byline_added_through_the_orm_shows_at_once_on_cached_pages():
    ensure_roles()
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen")
    article = ArticleFactory(title="Soon signed")
    assert 'class="byline' not in cached_html(article.get_absolute_url())
    assert "Soon signed" not in cached_html("/authors/lee-chen/")

    article.authors.add(author)

    assert "Dr Lee Chen" in byline_of(html_of(Client(), article.get_absolute_url()))
    assert "Soon signed" in html_of(Client(), "/authors/lee-chen/")


@pytest.mark.django_db(transaction=True)
def test_site_page_edited_through_the_orm_shows_at_once_though_cached():
    ensure_roles()
    page = SitePage.objects.create(title="About us", slug="about", body="Old words.")
    assert "Old words." in cached_html("/about/")

    page.body = "New words."
    page.save()

    html = html_of(Client(), "/about/")
    assert "New words." in html
    assert "Old words." not in html


@pytest.mark.django_db(transaction=True)
def test_deleted_site_page_is_gone_at_once_though_cached():
    ensure_roles()
    page = SitePage.objects.create(title="About us", slug="about", body="Words.")
    cached_html("/about/")

    page.delete()

    assert Client().get("/about/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_profile_of_an_author_without_articles_shows_an_edit_at_once_though_cached():
    ensure_roles()
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD")
    assert "MD, dermatologist" not in cached_html("/authors/lee-chen/")

    author.credentials = "MD, dermatologist"
    author.save()

    assert "MD, dermatologist" in text_of(html_of(Client(), "/authors/lee-chen/"))


@pytest.mark.django_db(transaction=True)
def test_deleted_author_profile_is_gone_at_once_though_cached():
    ensure_roles()
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen")
    article = signed(author)
    cached_html("/authors/lee-chen/")
    assert "Dr Lee Chen" in cached_html(article.get_absolute_url())

    author.delete()

    assert Client().get("/authors/lee-chen/").status_code == 404
    assert "Dr Lee Chen" not in html_of(Client(), article.get_absolute_url())


@pytest.mark.django_db(transaction=True)
def test_author_credentials_changed_in_bulk_show_at_once_on_cached_pages():
    ensure_roles()
    author = AuthorFactory(name="Dr Lee Chen", slug="lee-chen", credentials="MD")
    article = signed(author)
    for url in (article.get_absolute_url(), "/authors/lee-chen/"):
        assert "MD, dermatologist" not in cached_html(url)

    Author.objects.filter(pk=author.pk).update(credentials="MD, dermatologist")

    assert (
        text_of(byline_of(html_of(Client(), article.get_absolute_url())))
        == "By Dr Lee Chen, MD, dermatologist"
    )
    assert "MD, dermatologist" in text_of(html_of(Client(), "/authors/lee-chen/"))
