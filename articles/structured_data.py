"""What reader pages say of themselves to search engines and link previews: their
canonical address, and their schema.org JSON-LD (an article, the home page, a topic)."""

import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe

from articles.addresses import slug_address
from articles.context_processors import addresses

SITE_NAME = "smpinfo"

# Inside <script>, "</script>" or "<!--" in any text would end or alter the element:
# escape the characters that could start them, as Django's json_script does.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def as_script_json(data):
    """`data` as JSON safe to put inside <script type="application/ld+json">."""
    return mark_safe(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    )


def page_address(request, path=None, *, page=1, **query):
    """The absolute address a page is indexed and shared under (its canonical URL, og:url
    and JSON-LD url): `path` (by default the request's) with only the query that makes
    the page what it is, `query` (a search's words) and, from the second page of a list
    on, `?page=N`. Tracking tags or any other parameter a link added are left out."""
    if page > 1:
        query["page"] = page
    url = request.build_absolute_uri(path or request.path)
    return f"{url}?{urlencode(query)}" if query else url


def website(request):
    """The site as a schema.org WebSite, with its search as a SearchAction."""
    home = request.build_absolute_uri(reverse("articles:list"))
    search = request.build_absolute_uri(reverse("articles:search"))
    return {
        "@type": "WebSite",
        "@id": f"{home}#website",
        "url": home,
        "name": SITE_NAME,
        "inLanguage": "en",
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{search}?q={{search_term_string}}"},
            "query-input": "required name=search_term_string",
        },
    }


def website_json_ld(request):
    """The home page: the WebSite and its search."""
    return as_script_json({"@context": "https://schema.org", **website(request)})


def collection_page_json_ld(request, topic, page):
    """A page of a topic's list (`page`, a Paginator page of its articles): a CollectionPage
    of the site whose ItemList holds the articles the page shows, numbered from the first
    article of the page (11 on page 2)."""
    url = page_address(request, topic.get_absolute_url(), page=page.number)
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "@id": url,
        "url": url,
        "name": topic.name,
        "description": topic.summary or f"Articles about {topic.name} on {SITE_NAME}.",
        "inLanguage": "en",
        "isPartOf": website(request),
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "url": request.build_absolute_uri(article.get_absolute_url()),
                    "name": article.title,
                }
                for position, article in enumerate(page, start=page.start_index())
            ],
        },
    }
    return as_script_json(data)


def person_or_organization(request, author):
    """schema.org Person or Organization of an author's outline (Author.outline())."""
    data = {
        "@type": "Organization" if author["is_organization"] else "Person",
        "name": author["name"],
        "url": request.build_absolute_uri(slug_address("articles:author", author["slug"])),
    }
    if author["credentials"]:
        data["description" if author["is_organization"] else "jobTitle"] = author["credentials"]
    return data


def article_json_ld(request, article):
    """A MedicalWebPage about scalp micropigmentation; side effects as its adverse outcomes.

    Everything comes from what the article stored when it was saved (its side-effect
    and editorial outlines, its byline): the page view runs no query for it.
    """
    url = request.build_absolute_uri(article.get_absolute_url())
    home = request.build_absolute_uri(addresses(get_script_prefix(), get_urlconf())["home"])
    publisher = {"@type": "Organization", "name": SITE_NAME, "url": home}
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": article.title,
        "headline": article.title,
        "description": article.summary,
        "inLanguage": "en",
        "datePublished": article.published_at,
        "dateModified": article.last_changed_at,
        "timeRequired": f"PT{article.reading_minutes}M",
        "author": [person_or_organization(request, author) for author in article.byline] or publisher,
        "publisher": publisher,
    }
    image = article.image_outline.get("preview")
    if image:
        data["image"] = {
            "@type": "ImageObject",
            "url": request.build_absolute_uri(image["url"]),
            "contentUrl": request.build_absolute_uri(image["url"]),
            "width": image["width"],
            "height": image["height"],
            "encodingFormat": image["type"],
            **({"caption": image["alt"]} if image["alt"] else {}),
        }
    review = article.editorial_outline.get("review")
    if review:
        data["reviewedBy"] = person_or_organization(request, review["reviewer"])
        data["lastReviewed"] = review["reviewed_on"]
    citations = article.editorial_outline.get("citations")
    if citations:
        data["citation"] = citations
    # Every article of the site is about SMP, whether or not it lists side effects.
    data["about"] = {
        "@type": "TherapeuticProcedure",
        "name": "Scalp micropigmentation",
        "alternateName": "SMP",
    }
    if article.side_effect_outline:
        data["about"]["adverseOutcome"] = [
            {
                "@type": "MedicalEntity",
                "name": effect["name"],
                "description": effect["summary"],
                "url": f"{url}#{effect['anchor']}",
            }
            for effect in article.side_effect_outline
        ]
    return as_script_json(data)
