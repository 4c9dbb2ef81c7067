"""`{{ comment_form|comment_form_fields }}`: the comment form's fields, rendered by crispy-forms."""

from django import template

from comments.forms import render_comment_form

register = template.Library()


@register.filter
def comment_form_fields(form):
    return render_comment_form(form)
