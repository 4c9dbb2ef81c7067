"""The comments app's template tags, for the pages that show a thread.

`{% comment_section article %}`: the article's thread (approved comments, and the form
while the thread is open, or "Comments are closed."), as templates/comments/_thread.html
shows it. A page that shows the form again with errors passes it as `comment_form`.
"""

from django import template

from comments.forms import render_comment_form
from comments.models import comment_permalink
from comments.moderation import thread_closes_at
from comments.thread import thread_context
from pagecache import page_changes_at

register = template.Library()


@register.inclusion_tag("comments/_thread.html", takes_context=True)
def comment_section(context, article):
    request = context["request"]
    section = thread_context(request, article, form=context.get("comment_form"))
    if section["comments_open"]:
        # The form goes when the thread closes by date: a cached page must not outlive it.
        page_changes_at(request, thread_closes_at(article))
    return {
        "article": article,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "messages": context.get("messages"),
        **section,
    }


@register.filter
def comment_form_fields(form):
    """`{{ comment_form|comment_form_fields }}`: the form's fields, rendered by crispy-forms."""
    return render_comment_form(form)


register.simple_tag(comment_permalink, name="comment_permalink")
