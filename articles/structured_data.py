"""What reader pages say of themselves to search engines and link previews: their
canonical address, and their schema.org JSON-LD (an article, the home page, a topic)."""

import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.safestring import mark_safe

from articles.addresses import slug_address

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


# An article's JSON-LD is stored when the article is (Article.structured_data, made by
# stored_json_ld) with holes for what a request decides or what may change without the article
# being stored again: the address the page is read at, the site's origin (scheme and host)
# and scheme, and the two dates (a slug or a publication time can change by a plain update).
# A hole is a name between two U+0001 characters at the start of a JSON string: in the JSON
# text, a quote and the name between two \u0001 escapes. No text of an article can make that:
# stored_json_ld takes U+0001 out of them, and JSON escapes a quote inside a string.
HOLE_MARK = "\x01"
HOLES = ("page", "origin", "scheme", "published", "modified")


def hole(name):
    return f"{HOLE_MARK}{name}{HOLE_MARK}"


ENCODED_HOLES = {name: f'"{json.dumps(hole(name))[1:-1]}' for name in HOLES}
JSON_ENCODER = DjangoJSONEncoder()
# What stored_json_ld reads of the fields stored with the article.
STORED_JSON_LD_PARTS = (
    "reading_minutes",
    "byline",
    "image_outline",
    "editorial_outline",
    "side_effect_outline",
)


def article_json_ld(request, article):
    """The article's stored JSON-LD (see stored_json_ld) with this request's values in its
    holes: a few string replacements, where building it cost about 7% of an uncached page."""
    addresses = {
        "page": request.build_absolute_uri(article.get_absolute_url()),
        "origin": request.build_absolute_uri("/").removesuffix("/"),
    }
    # Digits, signs and letters, which JSON and <script> take as they are.
    plain = {
        "scheme": request.scheme,
        "published": JSON_ENCODER.default(article.published_at),
        "modified": JSON_ENCODER.default(article.last_changed_at),
    }
    text = article.structured_data
    for name, address in addresses.items():
        # As JSON and safe inside <script>, as the rest of the text is (as_script_json).
        text = text.replace(ENCODED_HOLES[name], json.dumps(address).translate(JSON_SCRIPT_ESCAPES)[:-1])
    for name, value in plain.items():
        text = text.replace(ENCODED_HOLES[name], f'"{value}')
    return mark_safe(text)


def stored_json_ld(article, derived):
    """A MedicalWebPage about scalp micropigmentation; side effects as its adverse outcomes.

    Made when the article is stored, from its title and summary and from `derived`, the
    outlines and reading time stored with it (Article.derived_fields): byline, review,
    citations, featured image, side effects. Addresses are the site's paths after the origin
    hole, as the stored header's links are paths; the page view fills the holes."""
    article_text = without_hole_marks({"title": article.title, "summary": article.summary})
    derived = without_hole_marks({name: derived[name] for name in STORED_JSON_LD_PARTS})
    page, origin = hole("page"), hole("origin")
    home = f"{origin}{reverse('articles:list')}"
    publisher = {"@type": "Organization", "name": SITE_NAME, "url": home}
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": page,
        "url": page,
        "name": article_text["title"],
        "headline": article_text["title"],
        "description": article_text["summary"],
        "inLanguage": "en",
        "datePublished": hole("published"),
        "dateModified": hole("modified"),
        "timeRequired": f"PT{derived['reading_minutes']}M",
        "author": [person_or_organization(author, origin) for author in derived["byline"]] or publisher,
        "publisher": publisher,
    }
    image = derived["image_outline"].get("preview")
    if image:
        # A picture's address is a path on this site, or one of object storage's or a CDN's,
        # perhaps without its scheme ("//cdn.example/..."): the page's it is then.
        url = image["url"]
        if url.startswith("//"):
            url = f"{hole('scheme')}:{url}"
        elif url.startswith("/"):
            url = f"{origin}{url}"
        data["image"] = {
            "@type": "ImageObject",
            "url": url,
            "contentUrl": url,
            "width": image["width"],
            "height": image["height"],
            "encodingFormat": image["type"],
            **({"caption": image["alt"]} if image["alt"] else {}),
        }
    review = derived["editorial_outline"].get("review")
    if review:
        data["reviewedBy"] = person_or_organization(review["reviewer"], origin)
        data["lastReviewed"] = review["reviewed_on"]
    citations = derived["editorial_outline"].get("citations")
    if citations:
        data["citation"] = citations
    # Every article of the site is about SMP, whether or not it lists side effects.
    data["about"] = {
        "@type": "TherapeuticProcedure",
        "name": "Scalp micropigmentation",
        "alternateName": "SMP",
    }
    if derived["side_effect_outline"]:
        data["about"]["adverseOutcome"] = [
            {
                "@type": "MedicalEntity",
                "name": effect["name"],
                "description": effect["summary"],
                "url": f"{page}#{effect['anchor']}",
            }
            for effect in derived["side_effect_outline"]
        ]
    return as_script_json(data)


def person_or_organization(author, origin):
    """schema.org Person or Organization of an author's outline (Author.outline()), its
    profile's address after `origin`."""
    data = {
        "@type": "Organization" if author["is_organization"] else "Person",
        "name": author["name"],
        "url": f"{origin}{slug_address('articles:author', author['slug'])}",
    }
    if author["credentials"]:
        data["description" if author["is_organization"] else "jobTitle"] = author["credentials"]
    return data


def without_hole_marks(value):
    """`value` (texts, in lists and dicts) with the hole mark taken out of every text."""
    if isinstance(value, dict):
        return {key: without_hole_marks(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_hole_marks(item) for item in value]
    if isinstance(value, str):
        return value.replace(HOLE_MARK, "")
    return value
