"""Images of the library: the clean full-size file, its renditions, and what readers are
told about it (alt text, caption, credit) and what the site must know before showing it
(whether it shows a person, and their consent)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

# The part of a page an image takes, for the browser to pick a rendition before layout
# (`sizes`): the reading column is at most 45rem (720 px) wide.
READING_COLUMN_SIZES = "(min-width: 48rem) 45rem, 100vw"
THUMBNAIL_SIZES = "8rem"


class ImageQuerySet(models.QuerySet):
    def usable(self):
        """Images that have renditions to show (every upload through the library has)."""
        return self.exclude(renditions=[])


class Image(models.Model):
    """A picture of the library, as uploaded once and shown on any number of pages."""

    file = models.FileField(
        upload_to="images/",
        max_length=200,
        editable=False,
        help_text="The upload, turned upright and with every metadata block (EXIF, GPS, XMP) removed.",
    )
    original_name = models.CharField(max_length=255, editable=False, default="")
    content_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the file as uploaded."
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    # [{format, width, height, name, bytes}], made at upload (images.processing).
    renditions = models.JSONField(editable=False, default=list)
    alt_text = models.CharField(
        "alt text",
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it (screen readers, "
        "images turned off). Required unless the image is decorative.",
    )
    decorative = models.BooleanField(
        default=False,
        help_text="Tick only for an image that adds nothing to the text: screen readers then skip it.",
    )
    caption = models.CharField(max_length=300, blank=True, help_text="Shown under the image.")
    credit = models.CharField(
        "credit and licence",
        max_length=200,
        blank=True,
        help_text="Who made it and under what licence, e.g. “Photo: A. Clinic, CC BY 4.0”.",
    )
    shows_person = models.BooleanField(
        "shows a person",
        default=False,
        help_text="Tick for a photograph of a patient or anyone recognisable: no published page "
        "may show it until their consent is recorded below.",
    )
    consent_date = models.DateField("consent given on", null=True, blank=True)
    consent_reference = models.CharField(
        "consent reference",
        max_length=100,
        blank=True,
        help_text="Where the signed consent is kept (a form number or file reference), not the form itself.",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        label = self.alt_text or self.caption or self.original_name or "image"
        return f"#{self.pk} {label}"

    def get_absolute_url(self):
        return reverse("admin:images_image_change", args=[self.pk])

    def clean(self):
        errors = {}
        if not self.decorative and not self.alt_text.strip():
            errors["alt_text"] = (
                "Describe what the image shows, or tick “decorative” if it adds nothing to the text."
            )
        if self.decorative and self.alt_text.strip():
            errors["decorative"] = "A decorative image has no alt text: empty it, or untick “decorative”."
        if bool(self.consent_date) != bool(self.consent_reference.strip()):
            missing = "consent_reference" if self.consent_date else "consent_date"
            errors[missing] = "Record both the date of the consent and where it is kept."
        if errors:
            raise ValidationError(errors)

    @property
    def consent_recorded(self):
        """Whether a published page may show it: it shows nobody, or their consent is recorded."""
        return not self.shows_person or bool(self.consent_date and self.consent_reference.strip())

    def renditions_of(self, kind):
        return sorted((r for r in self.renditions if r["format"] == kind), key=lambda r: r["width"])

    @property
    def fallback_format(self):
        return "png" if any(r["format"] == "png" for r in self.renditions) else "jpeg"

    def largest(self):
        """The widest rendition in the fallback format (JPEG or PNG), which every browser
        and link preview can show."""
        return self.renditions_of(self.fallback_format)[-1]

    def smallest(self):
        return self.renditions_of(self.fallback_format)[0]

    def file_names(self):
        """Every file of the image in the storage: the clean copy and each rendition."""
        return [self.file.name, *(rendition["name"] for rendition in self.renditions)]
