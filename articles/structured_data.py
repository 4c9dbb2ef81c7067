"""schema.org JSON-LD of reader pages (an article, the home page, a topic), so search
engines understand them."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.safestring import mark_safe

# Inside <script>, "</script>" or "<!--" in any text would end or alter the element:
# escape the characters that could start them, as Django's json_script does.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def as_script_json(data):
    """`data` as JSON safe to put inside <script type="application/ld+json">."""
    return mark_safe(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    )


def website(request):
    """The site as a schema.org WebSite, with its search as a SearchAction."""
    search_url = request.build_absolute_uri(reverse("articles:search"))
    return {
        "@type": "WebSite",
        "@id": request.build_absolute_uri("/") + "#website",
        "url": request.build_absolute_uri("/"),
        "name": "smpinfo",
        "inLanguage": "en",
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{search_url}?q={{search_term_string}}"},
            "query-input": "required name=search_term_string",
        },
    }


def website_json_ld(request):
    """The home page: the WebSite and its search."""
    return as_script_json({"@context": "https://schema.org", **website(request)})


def collection_page_json_ld(request, topic, articles):
    """A topic's page: a CollectionPage of the site listing the articles it shows."""
    url = request.build_absolute_uri(topic.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "@id": url,
        "url": url,
        "name": topic.name,
        "description": topic.summary or f"Articles about {topic.name} on smpinfo.",
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
                for position, article in enumerate(articles, start=1)
            ],
        },
    }
    return as_script_json(data)


def person_or_organization(request, author):
    """schema.org Person or Organization of an author's outline (Author.outline())."""
    data = {
        "@type": "Organization" if author["is_organization"] else "Person",
        "name": author["name"],
        "url": request.build_absolute_uri(reverse("articles:author", kwargs={"slug": author["slug"]})),
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
    publisher = {"@type": "Organization", "name": "smpinfo", "url": request.build_absolute_uri("/")}
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
