"""`{% load slug_addresses %}`: `{{ topic.slug|slug_address:"articles:topic" }}` is
`{% url "articles:topic" topic.slug %}`, the same address made from parts made once per
process (articles.addresses)."""

from django import template

from articles.addresses import slug_address as address

register = template.Library()


@register.filter
def slug_address(slug, view):
    return address(view, slug)
