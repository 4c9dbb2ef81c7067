"""Pages named by a slug get the address reverse() would give them, made from parts kept per
process (articles.addresses), under any path prefix and URL configuration."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import example, given
from hypothesis import strategies as st

from articles.addresses import SLUG_PAGES, slug_address
from tests.factories import ArticleFactory, AuthorFactory, TopicFactory
from tests.strategies import fuzz_settings

SLUG_VIEWS = [*SLUG_PAGES, "articles:topic_feed"]
SLUG_TEXT = st.text(alphabet="-_abcXYZ019", min_size=1, max_size=40)


@fuzz_settings(300)
@given(view=st.sampled_from(SLUG_VIEWS), slug=st.one_of(SLUG_TEXT, st.text(max_size=20)))
@example(view="articles:detail", slug="slug-made-up-to-be-found-in-the-address")
@example(view="articles:detail", slug="")
@example(view="articles:detail", slug="a/b")
@example(view="articles:detail", slug="é")
@example(view="articles:detail", slug="two words")
@example(view="articles:detail", slug="a\n")
def test_a_slug_address_is_the_one_reverse_gives_and_so_is_its_refusal(view, slug):
    try:
        expected = reverse(view, kwargs={"slug": slug})
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            slug_address(view, slug)
    else:
        assert slug_address(view, slug) == expected


@pytest.mark.parametrize("prefix", ["/", "/clinic/", "/a b/"])
def test_a_slug_address_starts_with_the_sites_path_prefix(prefix):
    set_script_prefix(prefix)
    try:
        assert slug_address("articles:detail", "aftercare") == reverse("articles:detail", args=["aftercare"])
        assert slug_address("articles:detail", "aftercare").startswith(reverse("articles:list"))
    finally:
        set_script_prefix("/")


def test_a_view_without_a_slug_is_refused_as_reverse_refuses_it():
    with pytest.raises(NoReverseMatch):
        slug_address("articles:list", "aftercare")
    with pytest.raises(NoReverseMatch):
        slug_address("articles:no-such-view", "aftercare")


def test_a_new_url_configuration_gives_new_addresses(settings):
    assert slug_address("articles:detail", "aftercare") == "/articles/aftercare/"

    settings.ROOT_URLCONF = "tests.urls_mounted_elsewhere"

    assert slug_address("articles:detail", "aftercare") == "/library/articles/aftercare/"


@pytest.mark.django_db
def test_articles_authors_and_topics_link_where_their_pages_are():
    article = ArticleFactory(slug="aftercare")
    author, topic = AuthorFactory(slug="a-b"), TopicFactory(slug="t_1")

    assert article.get_absolute_url() == "/articles/aftercare/"
    assert author.get_absolute_url() == "/authors/a-b/"
    assert topic.get_absolute_url() == "/topics/t_1/"


def test_the_template_filter_gives_the_url_tags_address():
    template = engines["django"].from_string(
        "{% load slug_addresses %}{{ slug|slug_address:'articles:topic' }} {% url 'articles:topic' slug %}"
    )

    filtered, tagged = template.render({"slug": "side-effects"}).split()

    assert filtered == tagged == "/topics/side-effects/"
