"""The image library in the admin: upload with alt text, caption and credit, thumbnails,
search, and where each image is used. The upload is checked and its renditions made when
the form is sent (images.processing); an image a page shows cannot be deleted."""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from images import library, processing
from images.markup import media_url, picture_html
from images.models import THUMBNAIL_SIZES, Image
from images.usage import pages_showing, pages_showing_each

# What editors say of an image, on upload and afterwards (the file itself never changes).
DESCRIPTION_FIELDS = ["alt_text", "decorative", "caption", "credit", "shows_person", "consent_date",
                      "consent_reference"]  # fmt: skip


class ImageUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label="Image file",
        help_text="JPEG, PNG, WebP, GIF (still) or AVIF. It is turned upright and every metadata "
        "block (camera, GPS location, editing history) is removed before anything is stored.",
    )

    class Meta:
        model = Image
        fields = ["upload", *DESCRIPTION_FIELDS]

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        self.processed = processing.process_upload(upload)
        existing = Image.objects.filter(content_hash=self.processed.content_hash).first()
        if existing is not None:
            raise ValidationError(
                format_html(
                    'This file is already in the library as <a href="{}">{}</a>: use that image.',
                    existing.get_absolute_url(),
                    existing,
                )
            )
        return upload

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and getattr(self, "processed", None):
            try:
                stored = library.write_files(self.processed)
            except ValidationError as error:
                self.add_error("upload", error)
                return
            library.fill_image(self.instance, self.processed, stored, self.cleaned_data["upload"].name)


class ImageChangeForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = DESCRIPTION_FIELDS

    def _post_clean(self):
        super()._post_clean()  # the instance now holds what the editor sent
        # A page already published with the image may not be left showing a person without consent.
        if self.instance.consent_recorded:
            return
        published = [page.label for page in pages_showing(self.instance) if page.published]
        if published:
            self.add_error(
                None,
                ValidationError(
                    "This image shows a person and published pages show it: %(pages)s. Record their consent, "
                    "or take the image off those pages first.",
                    params={"pages": "; ".join(published)},
                ),
            )


class ImageChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        usage = pages_showing_each(self.result_list)
        for image in self.result_list:
            image.pages = usage[image.pk]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "__str__", "caption", "size", "used_on", "consent", "uploaded_at"]
    list_display_links = ["__str__"]  # a decorative thumbnail has no text to name a link
    list_filter = ["decorative", "shows_person", "uploaded_at"]
    search_fields = ["alt_text", "caption", "credit", "original_name"]
    list_per_page = 50
    readonly_fields = ["preview", "size", "files", "pages"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ImageChangeForm if obj is not None else ImageUploadForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        consent = (
            "Consent",
            {
                "fields": ["shows_person", "consent_date", "consent_reference"],
                "description": "A photograph of a patient, or of anyone who can be recognised, needs their "
                "recorded consent before any published page may show it.",
            },
        )
        if obj is None:
            return [(None, {"fields": ["upload", "alt_text", "decorative", "caption", "credit"]}), consent]
        return [
            (None, {"fields": ["preview", "alt_text", "decorative", "caption", "credit"]}),
            consent,
            ("Files and use", {"fields": ["size", "files", "pages"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_changelist(self, request, **kwargs):
        return ImageChangeList

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Image")
    def thumbnail(self, image):
        if not image.renditions:
            return "–"
        return picture_html(image, sizes=THUMBNAIL_SIZES, largest_width=480)

    @admin.display(description="Preview")
    def preview(self, image):
        return picture_html(image, sizes="(min-width: 60rem) 40rem, 90vw") if image.renditions else "–"

    @admin.display(description="Size")
    def size(self, image):
        return f"{image.width} × {image.height}"

    @admin.display(description="Used on")
    def used_on(self, image):
        pages = getattr(image, "pages", None)
        if pages is None:
            pages = pages_showing(image)
        return (
            format_html_join(", ", '<a href="{}">{}</a>', ((page.admin_url, page.label) for page in pages))
            or "Not used"
        )

    @admin.display(description="Shown on")
    def pages(self, image):
        pages = pages_showing(image)
        if not pages:
            return "No page shows this image."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", '<li><a href="{}">{}</a></li>', ((page.admin_url, page.label) for page in pages)
            ),
        )

    @admin.display(description="Consent")
    def consent(self, image):
        if not image.shows_person:
            return "Not needed"
        return "Recorded" if image.consent_recorded else "Missing: not shown on published pages"

    @admin.display(description="Files")
    def files(self, image):
        rows = (
            (media_url(r["name"]), f"{r['format'].upper()} {r['width']} px, {r['bytes']:,} bytes")
            for r in sorted(image.renditions, key=lambda r: (r["width"], r["format"]))
        )
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a></li>', rows))
