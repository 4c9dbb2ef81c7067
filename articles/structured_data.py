"""schema.org JSON-LD for an article page, so search engines understand it."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import mark_safe

# Inside <script>, "</script>" or "<!--" in any text would end or alter the element:
# escape the characters that could start them, as Django's json_script does.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def article_json_ld(request, article):
    """A MedicalWebPage about scalp micropigmentation; side effects as its adverse outcomes.

    The side effects come from the article's stored outline (Article.side_effect_outline).
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
        "dateModified": article.updated_at,
        "timeRequired": f"PT{article.reading_minutes}M",
        "author": publisher,
        "publisher": publisher,
    }
    if article.side_effect_outline:
        data["about"] = {
            "@type": "TherapeuticProcedure",
            "name": "Scalp micropigmentation",
            "alternateName": "SMP",
            "adverseOutcome": [
                {
                    "@type": "MedicalEntity",
                    "name": effect["name"],
                    "description": effect["summary"],
                    "url": f"{url}#{effect['anchor']}",
                }
                for effect in article.side_effect_outline
            ],
        }
    return mark_safe(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    )
