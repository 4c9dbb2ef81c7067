"""Staff answers to readers' comments: published at once, shown with a staff badge and the
author profile of the staff member who wrote them."""

from django import forms

from comments.models import BODY_MAX_LENGTH


class StaffAnswerForm(forms.Form):
    """The staff member's answer to one comment."""

    body = forms.CharField(
        label="Answer",
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text. Published at once, with a staff badge and your author profile.",
    )
    pinned = forms.BooleanField(label="Pin this answer to the top of the thread", required=False)
