"""Pictures made for the tests (Pillow draws them; nothing is downloaded) and images of the
library made from them, as an upload through the admin makes them."""

import io
from itertools import count

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as Pillow
from PIL import ImageDraw

from images import library, processing
from images.models import Image

_drawn = count()


def picture_bytes(width=1200, height=800, format="JPEG", mode="RGB", **save_options):
    """An image file's bytes: a gradient with a shape, so that it compresses as a photo would;
    each call draws another picture."""
    picture = Pillow.linear_gradient("L").resize((width, height)).convert(mode if mode != "RGBA" else "RGB")
    if mode == "RGBA":
        picture = picture.convert("RGBA")
        picture.putalpha(Pillow.linear_gradient("L").resize((width, height)))
    draw = ImageDraw.Draw(picture)
    offset = next(_drawn) % (width // 4)
    box = (width // 4 + offset, height // 4, width // 2 + offset, height // 2)
    draw.ellipse(box, fill=(200, 30, 30, 255)[: len(picture.getbands())])
    buffer = io.BytesIO()
    picture.save(buffer, format=format, **save_options)
    return buffer.getvalue()


def upload(data=None, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, picture_bytes() if data is None else data, content_type=content_type)


def library_image(width=1200, height=800, *, data=None, name="photo.jpg", **fields):
    """An image of the library, its files written to the storage, as the admin's upload does."""
    data = data if data is not None else picture_bytes(width, height)
    processed = processing.process_bytes(data, name)
    stored = library.write_files(processed)
    image = Image(alt_text=fields.pop("alt_text", "Healed scalp, three weeks after a session"), **fields)
    library.fill_image(image, processed, stored, name)
    image.save()
    return image


def illustrated_article(**fields):
    """An article with every kind of image: a featured one, one embedded as a figure of its
    own, a decorative one within a sentence, and a side effect's; returns (article, featured)."""
    from tests.factories import ArticleFactory, SideEffectFactory

    featured = library_image(
        2000,
        1333,
        alt_text="Hairline after the second session",
        caption="Two weeks on",
        credit="Photo: the clinic, CC BY 4.0",
    )
    figure = library_image(1200, 800, alt_text="Pigment dots up close", caption="The dots at the temple")
    within = library_image(600, 400, alt_text="", decorative=True)
    article = ArticleFactory(
        title="A healed hairline, in pictures",
        slug="a-healed-hairline-in-pictures",
        summary="What the ink looks like once healed.",
        body=f"The pigment settles.\n\n![](image:{figure.pk})\n\n"
        f"Seen closer ![](image:{within.pk}) the dots are separate.",
        featured_image=featured,
        **fields,
    )
    SideEffectFactory(article=article, name="Redness", image=library_image(900, 600, alt_text="Redness"))
    article.save()
    return article, featured
