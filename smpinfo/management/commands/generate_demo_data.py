"""Fill the database with generated articles and comments, for demos and benchmarks.

Everything it writes is marked by its slug: `demo-article-<n>` (and the images it adds to
the library by their original name, `demo-picture-<n>.jpg`). It refuses to touch a
database that holds anything else unless told to with --force.
"""

import bisect
import hashlib
import io
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import islice

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image as Pillow

from articles.markdown import render_markdown, render_markdown_with_headings
from articles.models import Article, ArticleImage, RelatedArticle, SideEffect, Topic, article_pages_changed
from articles.related import RelatedIndex, rank_and_store
from comments.models import Comment, recount_approved_comments
from comments.moderation import HELD_REASON, HONEYPOT_REASON, blocked_phrase_reason, too_fast_reason
from images import library, processing
from images.models import Image

DEMO_PREFIX = "demo-"
SLUG_PREFIX = "demo-article-"
DEFAULT_SEED = 20240611
# The first article of a run gets a tenth of its comments, but at most 12,000 (so from 120,000
# comments on it has over 10,000 approved ones), and never less than 1%.
HOT_ARTICLE_SHARE = 10
HOT_ARTICLE_CAP = 12_000
HOT_ARTICLE_FLOOR = 100
# --images: the size of each generated picture (small: each is processed into its renditions
# once, as an upload is), which articles show one as their featured image (every
# FEATURED_EVERY-th, the first included) and which embed another in their text.
PICTURE_SIZE = (1200, 800)
PICTURE_PREFIX = "demo-picture-"
FEATURED_EVERY = 2
INLINE_EVERY = 5

# Status of a generated comment and how often it occurs.
DEFAULT_REPLY_SHARE = 0.1
STATUS_WEIGHTS = [
    (Comment.Status.APPROVED, 0.88),
    (Comment.Status.PENDING, 0.07),
    (Comment.Status.SPAM, 0.04),
    (Comment.Status.REJECTED, 0.01),
]
# Why a generated spam comment is spam, in the words moderate() uses.
SPAM_REASONS = [
    HONEYPOT_REASON,
    blocked_phrase_reason("cheap pills"),
    too_fast_reason(0.4, 2.0),
]

TITLE_TEMPLATES = [
    "{topic}: what to expect",
    "{topic}, explained",
    "A practical guide to {topic_lower}",
    "{topic}: questions readers ask",
    "What nobody tells you about {topic_lower}",
    "{topic} in {year}: an honest look",
    "{topic}: myths and facts",
    "Before you book: {topic_lower}",
]
TOPICS = [
    "Healing after scalp micropigmentation",
    "Choosing an SMP practitioner",
    "Scalp micropigmentation for women",
    "SMP and thinning hair",
    "Touch-up sessions",
    "Pigment colour and skin tone",
    "Scalp micropigmentation over scars",
    "Aftercare in the first week",
    "Sun protection after SMP",
    "The cost of scalp micropigmentation",
    "SMP versus hair transplants",
    "Fading and how to prevent it",
    "Working out after treatment",
    "Redness after a session",
    "The hairline consultation",
    "Living with SMP for ten years",
    "Removing scalp micropigmentation",
    "SMP for alopecia",
    "Sensitive scalps and SMP",
    "The first session, hour by hour",
]
# The demo's topics, and the subjects of TOPICS filed under each (a subject may be in two).
DEMO_TOPICS = {
    "Healing and aftercare": [
        "Healing after scalp micropigmentation",
        "Aftercare in the first week",
        "Sun protection after SMP",
        "Working out after treatment",
        "Redness after a session",
    ],
    "Risks and side effects": [
        "Redness after a session",
        "Removing scalp micropigmentation",
        "Sensitive scalps and SMP",
        "Fading and how to prevent it",
    ],
    "Choosing a practitioner": [
        "Choosing an SMP practitioner",
        "The hairline consultation",
        "The cost of scalp micropigmentation",
        "The first session, hour by hour",
    ],
    "Results over the years": [
        "Touch-up sessions",
        "Pigment colour and skin tone",
        "Fading and how to prevent it",
        "Living with SMP for ten years",
    ],
    "Who SMP is for": [
        "Scalp micropigmentation for women",
        "SMP and thinning hair",
        "Scalp micropigmentation over scars",
        "SMP versus hair transplants",
        "SMP for alopecia",
    ],
}
DEMO_TOPIC_SLUG_PREFIX = "demo-topic-"

SUMMARY_TEMPLATES = [
    "What {topic_lower} involves, how long it takes and the questions worth asking first.",
    "A plain-language look at {topic_lower}, with advice from practitioners and readers.",
    "Everything about {topic_lower} in one place: the facts, the risks and what helps.",
]
BODIES = [
    "Scalp micropigmentation (SMP) places tiny dots of pigment in the scalp to give the look "
    "of short hair or a fuller head of hair. This article looks at one part of the treatment "
    "in detail.\n\n## What happens\n\nMost people notice **some redness** for a day or two. "
    "It settles by itself.\n\n## What helps\n\n- keep the scalp clean and dry\n- avoid the sun "
    "and heavy sweating for a few days\n- follow your practitioner's aftercare notes\n\n"
    "Read more about the [side effects of scalp micropigmentation]"
    "(/articles/side-effects-of-scalp-micropigmentation/).",
    "Many readers write to us with the same questions. Here are the answers, in order.\n\n"
    "## Is it painful?\n\nMost people describe it as *uncomfortable rather than painful*.\n\n"
    "## How many sessions?\n\nUsually two or three, a week or more apart.\n\n## How long does "
    "it last?\n\nYears, with a touch-up now and then as the pigment softens.\n\n"
    "See also [what scalp micropigmentation is](/articles/what-is-scalp-micropigmentation/).",
    "Choosing well matters more than anything else. A careful practitioner uses sterile, "
    "suitable pigments and the right depth.\n\n## Questions to ask\n\n1. Which pigment do you "
    "use, and why?\n2. Can I see healed results, not only fresh ones?\n3. What happens if I "
    "react to the pigment?\n\n## Warning signs\n\n> A price that seems too good to be true "
    "usually is.\n\nTake your time and compare.",
]
SIDE_EFFECT_POOL = [
    ("Redness", "Common", "A day or two", "The needle irritates the skin.", "Keep the scalp clean."),
    ("Itchy scalp", "Common", "A few days", "Healing skin.", "Don't scratch; ask about a lotion."),
    ("Swollen lymph nodes", "Occasional", "Goes away with time", "Unsuitable pigment.", "See a doctor."),
    ("Allergic reaction", "Rare", "Until treated", "An allergy to the pigment.", "Ask for a patch test."),
    ("Blueness of the scalp", "Rare", "Permanent", "Wrong pigment or depth.", "Choose carefully."),
    ("Mid-treatment fading", "Common", "Until the next session", "Normal healing.", "Expected."),
    ("Flaking", "Common", "About a week", "Healing skin sheds.", "Let it fall away by itself."),
    ("Tenderness", "Common", "A day or two", "The treatment itself.", "Avoid tight hats."),
    ("Uneven dots", "Occasional", "Until corrected", "Technique.", "Ask for a touch-up."),
    ("Pigment migration", "Rare", "Permanent", "Too deep or too much ink.", "Laser may help."),
]
SIDE_EFFECT_DESCRIPTION = (
    "Some people notice **{name_lower}** after treatment. It is usually mild.\n\n"
    "- how common: {frequency_lower}\n- how long: {duration_lower}\n\n"
    "Talk to your practitioner if it worries you."
)
FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Chris", "Pat", "Maria", "Ahmed", "Wei", "Priya", "Tom", "Lena",
    "Carlos", "Aisha", "Dmitri", "Emma", "Kofi", "Yuki", "Noah", "Fatima", "Liam", "Sofia",
    "Mateo", "Chloe", "Omar", "Hannah", "Ravi", "Grace", "Jonas", "Ines", "Kenji",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Garcia", "Nguyen", "Müller", "Okafor", "Kowalski", "Rossi", "Haddad", "Kim",
    "Johnson", "Silva", "Patel", "Dubois", "Ivanov", "Brown", "Cohen", "Larsen", "Tanaka",
    "Murphy", "Costa", "Novak", "Ali", "Schmidt", "Evans", "Moreau",
]  # fmt: skip
SENTENCES = [
    "Thanks for writing this, it answered most of my questions.",
    "I had my second session last week and the redness was gone after two days.",
    "My practitioner said the same thing about avoiding the sun.",
    "Does anyone know how long before I can go to the gym again?",
    "The itching was the worst part for me, but it passed.",
    "I wish I had read this before my first session.",
    "Great article, clear and honest.",
    "Mine faded a bit between sessions, exactly as described here.",
    "How do you choose the right shade for grey hair?",
    "Three years in and I am still happy with the result.",
    "I went to a cheap clinic first and had to get it corrected.",
    "Is it normal for the hairline to look darker in the first week?",
    "The patch test was a good idea, I am glad I asked for one.",
    "My scalp flaked for about a week, nothing serious.",
    "Can you do an article about touch-ups?",
    "I found the table at the top very useful.",
    "Sweating at work was my main worry, but it was fine.",
    "I would add: take photos every day so you can see the healing.",
    "It took three sessions in total for me.",
    "Not painful at all, just a bit uncomfortable around the crown.",
]  # fmt: skip
SPAM_SENTENCES = [
    "Best prices on hair products, visit www.example.com now!",
    "cheap pills cheap pills cheap pills",
    "Earn money from home, click here http://example.net",
]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
]


def insert_rows(model, rows):
    """Insert `rows` (dicts of field values by attribute name; a field left out takes its
    default) without save() or signals: on PostgreSQL with COPY of the values as they are
    (a million comments in a fraction of the time INSERTs take: neither model instances
    nor the fields' conversions, which were most of the time, and nothing else done: the
    caller keeps what the manager's bulk_create would, such as comment counts), elsewhere
    with bulk_create. The values must be what the column holds (aware datetimes, ids)."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**row) for row in rows)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    # Once per batch: the defaults a demo row leaves out are constants (False, "", None).
    defaults = [(field.attname, field.get_default()) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(name, default) for name, default in defaults])


def analyze_tables(models, command):
    """Run `command` (ANALYZE, or VACUUM (ANALYZE)) on the tables of `models`, on PostgreSQL:
    the planner's statistics, which the queries that follow a bulk load need."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


REFRESH_THREADS = 2


def refresh_chunk(pks):
    return Article.objects.filter(pk__in=pks).refresh_derived_fields()


def refresh_chunk_in_own_connection(pks):
    try:
        return refresh_chunk(pks)
    finally:
        connections.close_all()  # this thread's own


def batched(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def body_fields(body):
    """The article fields that Article.save() renders from `body` (bulk_create does not call
    save()), computed once per body template."""
    body_html, headings = render_markdown_with_headings(body)
    return {"body": body, "body_html": body_html, "body_headings": headings}


def lower_first(text):
    """ "Touch-up sessions" -> "touch-up sessions", but "SMP for alopecia" keeps its acronym."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def demo_picture(rng, width, height, *, quality=85, grain=0.08):
    """A JPEG's bytes, drawn from `rng` (the same draws give the same file): broad patches of
    colour with finer detail and grain over them, so that it compresses as a photograph does,
    not as a flat drawing. Nothing is downloaded."""

    def layer(scale):
        size = (max(2, width // scale), max(2, height // scale))
        patches = Pillow.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        return patches.resize((width, height), Pillow.Resampling.BICUBIC)

    picture = Pillow.blend(layer(60), layer(8), 0.35)
    if grain:
        noise = Pillow.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
        picture = Pillow.blend(picture, noise, grain)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def inline_image_markdown(body, image_pk):
    """`body` with the picture `image_pk` embedded as a paragraph of its own after its first one."""
    first, _, rest = body.partition("\n\n")
    embed = f"![A generated demo picture](image:{image_pk})"
    return f"{first}\n\n{embed}\n\n{rest}" if rest else f"{first}\n\n{embed}"


def hot_article_share(total_comments):
    """How many of the comments go to the run's first article."""
    share = min(total_comments // HOT_ARTICLE_SHARE, HOT_ARTICLE_CAP)
    return max(share, total_comments // HOT_ARTICLE_FLOOR)


def comments_per_article(rng, articles, total):
    """Split `total` comments over `articles` counts: a hot first article, the rest skewed.

    The others get weights drawn from a Pareto distribution (a few popular threads, a
    long tail of quiet ones), then whole counts by largest remainder so they add up.
    With 10,000 articles the largest of them gets some fifty times the median.
    """
    if articles == 0:
        return []
    hot = hot_article_share(total) if articles > 1 else total
    hot = min(hot, total)
    rest = total - hot
    weights = [rng.paretovariate(2.0) for _ in range(articles - 1)]
    weight_sum = sum(weights) or 1.0
    shares = [rest * weight / weight_sum for weight in weights]
    counts = [int(share) for share in shares]
    missing = rest - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in by_remainder[:missing]:
        counts[i] += 1
    return [hot, *counts]


class Command(BaseCommand):
    help = (
        "Generate demo content: N published articles (slugs demo-article-<n>, 3 to 6 side effects "
        "each) and M comments spread unevenly over them (the first article gets a tenth of them, "
        "at most 12,000: from 120,000 comments on, one thread has over 10,000 approved "
        "comments), mostly approved, some pending, spam or rejected, dated over the past year. "
        "The same --seed gives the same content. Refuses to run on a database that holds content "
        "other than demo content (an article whose slug does not start with “demo-”) unless --force "
        "is given. Running it again never deletes anything: it adds new articles numbered after the "
        "highest existing demo-article-<n>, and new comments. --images N adds N generated pictures "
        "to the image library (each made into its renditions once, as an upload is) and shows them "
        "on the new articles: every second one has a featured image, every fifth also one in its text."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=50, help="Articles to create (default 50).")
        parser.add_argument("--comments", type=int, default=2000, help="Comments to create (default 2000).")
        parser.add_argument(
            "--images",
            type=int,
            default=0,
            help="Generated pictures to add to the image library and show on the new articles (default 0).",
        )
        parser.add_argument(
            "--reply-share",
            type=float,
            default=DEFAULT_REPLY_SHARE,
            help=f"Of the comments, the share that are replies to an approved comment, a tenth of them "
            f"staff answers (default {DEFAULT_REPLY_SHARE}).",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"Random seed (default {DEFAULT_SEED})."
        )
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows per INSERT and transaction (default 5000)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add demo content even though the database holds real (non-demo) content.",
        )

    def handle(self, *args, articles, comments, images, reply_share, seed, batch_size, force, **options):
        if articles < 0 or comments < 0 or images < 0:
            raise CommandError("--articles, --comments and --images must be zero or more.")
        if not 0 <= reply_share < 1:
            raise CommandError("--reply-share must be at least 0 and less than 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if comments and not articles:
            raise CommandError("Comments need articles: give --articles 1 or more.")
        if images and not articles:
            raise CommandError("Images are shown on the new articles: give --articles 1 or more.")
        if not force:
            self.refuse_real_content()

        self.started = time.monotonic()
        self.now = timezone.now()
        first_number = self.next_article_number()
        # Mixing the first number into the seed: a re-run with the same seed adds different
        # titles instead of repeating the previous run's, and a run on an empty database is
        # always the same.
        rng = random.Random(f"{seed}:{first_number}")

        # The pictures draw from a generator of their own: with or without --images, the same
        # seed gives the same articles and comments.
        image_pks = self.create_images(random.Random(f"{seed}:{first_number}:images"), images)
        article_rows = self.create_articles(rng, articles, first_number, batch_size, image_pks)
        side_effect_total = self.create_side_effects(rng, article_rows, batch_size)
        self.file_under_topics(article_rows, batch_size)
        self.link_images(batch_size)
        self.refresh_articles(article_rows)
        self.rank_related(article_rows)
        replies = round(comments * reply_share)
        counts = comments_per_article(rng, len(article_rows), comments - replies)
        created = self.create_comments(rng, article_rows, counts, comments - replies, batch_size)
        created[Comment.Status.APPROVED] += self.create_replies(rng, article_rows, replies, batch_size)
        # bulk_create sends no signals: readers' cached pages would not show the new content.
        article_pages_changed()
        self.analyze()

        elapsed = time.monotonic() - self.started
        hot = ""
        if article_rows:
            slug = article_rows[0][1]
            approved = Comment.objects.approved().filter(article__slug=slug).count()
            hot = f" First article: /articles/{slug}/ with {approved:,} approved comments."
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {len(article_rows):,} articles, {side_effect_total:,} side effects and "
                f"{sum(created.values()):,} comments ("
                + ", ".join(f"{created[status]:,} {status}" for status, _ in STATUS_WEIGHTS)
                + ")"
                + (f", {len(image_pks):,} images" if image_pks else "")
                + f" in {elapsed:.1f} s.{hot}"
            )
        )

    # Safety ----------------------------------------------------------------------

    def refuse_real_content(self):
        real = Article.objects.exclude(slug__startswith=DEMO_PREFIX)
        count = real.count()
        if count:
            examples = ", ".join(real.order_by("pk").values_list("slug", flat=True)[:3])
            real_comments = Comment.objects.exclude(article__slug__startswith=DEMO_PREFIX).count()
            raise CommandError(
                f"This database holds real content: {count:,} article{'s' if count != 1 else ''} whose "
                f"slug does not start with “{DEMO_PREFIX}” (e.g. {examples}) and {real_comments:,} "
                f"comment{'s' if real_comments != 1 else ''} on them. generate_demo_data only fills an "
                "empty or demo-only database; use --force to add demo content anyway."
            )

    def next_article_number(self):
        numbers = [0]
        for slug in Article.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True):
            suffix = slug.removeprefix(SLUG_PREFIX)
            if suffix.isdigit():
                numbers.append(int(suffix))
        return max(numbers) + 1

    # Articles and side effects ------------------------------------------------------

    def create_images(self, rng, total):
        """Add `total` generated pictures to the image library, each processed once into its
        renditions and its files written, as the admin's upload does; return their pks. A
        picture already in the library (the same bytes: a run with the same seed and first
        article number) is used again, not added twice."""
        pks = []
        for number in range(1, total + 1):
            data = demo_picture(rng, *PICTURE_SIZE)
            existing = Image.objects.filter(content_hash=hashlib.sha256(data).hexdigest()).first()
            if existing is None:
                name = f"{PICTURE_PREFIX}{number}.jpg"
                processed = processing.process_bytes(data, name)
                existing = Image(
                    alt_text=f"Generated demo picture {number}: patches of colour",
                    caption="A generated picture (demo data).",
                    credit="generate_demo_data",
                )
                library.fill_image(existing, processed, library.write_files(processed), name)
                existing.save()
            pks.append(existing.pk)
            self.progress("images", number, total)
        return pks

    def create_articles(self, rng, total, first_number, batch_size, image_pks=()):
        """Create the articles; return [(pk, slug, published_at)] in order, the first one hot.

        With `image_pks`, every FEATURED_EVERY-th article shows one of them as its featured image
        and every INLINE_EVERY-th embeds one in its text, the images taken in turn (a body with an
        image is rendered once per body and image, as the bodies without are once each)."""
        bodies = [body_fields(body) for body in BODIES]
        with_image = {}

        def body_with_image(index, image_pk):
            if (index, image_pk) not in with_image:
                with_image[index, image_pk] = body_fields(inline_image_markdown(BODIES[index], image_pk))
            return with_image[index, image_pk]

        span = timedelta(days=730).total_seconds()
        rows = []
        subjects = []
        shown = []  # the pks of the images each article shows
        for index in range(total):
            number = first_number + index
            topic = rng.choice(TOPICS)
            subjects.append(topic)
            words = {"topic": topic, "topic_lower": lower_first(topic), "year": 2023 + index % 3}
            if index == 0:
                # The busiest thread: published over a year ago, so comments span the year.
                published_at = self.now - timedelta(days=400)
            else:
                published_at = self.now - timedelta(seconds=rng.random() * span + 3600)
            title = rng.choice(TITLE_TEMPLATES).format(**words)
            summary = rng.choice(SUMMARY_TEMPLATES).format(**words)
            body = rng.choice(range(len(bodies)))  # the draw rng.choice(bodies) made
            fields = bodies[body]
            featured = None
            if image_pks and index % FEATURED_EVERY == 0:
                featured = image_pks[index // FEATURED_EVERY % len(image_pks)]
            inline = None
            if image_pks and index % INLINE_EVERY == 0:
                inline = image_pks[(index // INLINE_EVERY + 1) % len(image_pks)]
                fields = body_with_image(body, inline)
            shown.append({pk for pk in (featured, inline) if pk is not None})
            rows.append(
                Article(
                    title=title,
                    slug=f"{SLUG_PREFIX}{number}",
                    summary=summary,
                    **fields,
                    featured_image_id=featured,
                    status=Article.Status.PUBLISHED,
                    published_at=published_at,
                    comments_open=index == 0 or rng.random() < 0.9,
                )
            )
        done = 0
        for batch in batched(rows, batch_size):
            with transaction.atomic():
                Article.objects.bulk_create(batch)
            done += len(batch)
            self.progress("articles", done, total)
        slugs = [article.slug for article in rows]
        pks = {}
        for chunk in batched(slugs, 5000):
            pks.update(Article.objects.filter(slug__in=chunk).values_list("slug", "pk"))
        self.subjects = {pks[article.slug]: subject for article, subject in zip(rows, subjects, strict=True)}
        self.images_shown = {pks[article.slug]: images for article, images in zip(rows, shown, strict=True)}
        return [(pks[article.slug], article.slug, article.published_at) for article in rows]

    def file_under_topics(self, article_rows, batch_size):
        """File each article under the demo topics of its subject (DEMO_TOPICS)."""
        topic_ids = {}
        for name in DEMO_TOPICS:
            topic, _ = Topic.objects.get_or_create(
                slug=f"{DEMO_TOPIC_SLUG_PREFIX}{slugify(name)}",
                defaults={"name": name, "summary": f"Demo articles about {name.lower()}."},
            )
            topic_ids[name] = topic.pk
        topics_of = {}
        for name, subjects in DEMO_TOPICS.items():
            for subject in subjects:
                topics_of.setdefault(subject, []).append(topic_ids[name])
        Link = Article.topics.through
        links = (
            Link(article_id=pk, topic_id=topic_id)
            for pk, _slug, _published in article_rows
            for topic_id in topics_of.get(self.subjects[pk], [])
        )
        for batch in batched(links, batch_size):
            Link.objects.bulk_create(batch)

    def link_images(self, batch_size):
        """Record which images each article shows (ArticleImage, the library's "used on"), in
        bulk: refresh_articles() then finds them recorded, instead of a few queries an article."""
        links = (
            ArticleImage(article_id=pk, image_id=image_pk)
            for pk, images in self.images_shown.items()
            for image_pk in sorted(images)
        )
        for batch in batched(links, batch_size):
            ArticleImage.objects.bulk_create(batch, ignore_conflicts=True)

    def create_side_effects(self, rng, article_rows, batch_size):
        descriptions = {}
        for name, frequency, duration, _cause, _advice in SIDE_EFFECT_POOL:
            text = SIDE_EFFECT_DESCRIPTION.format(
                name_lower=name.lower(), frequency_lower=frequency.lower(), duration_lower=duration.lower()
            )
            descriptions[name] = (text, render_markdown(text))

        def rows():
            for article_pk, _slug, _published in article_rows:
                for order, entry in enumerate(rng.sample(SIDE_EFFECT_POOL, rng.randint(3, 6)), start=1):
                    name, frequency, duration, cause, advice = entry
                    description, description_html = descriptions[name]
                    yield SideEffect(
                        article_id=article_pk,
                        name=name,
                        description=description,
                        description_html=description_html,
                        frequency=frequency,
                        duration=duration,
                        cause=cause,
                        advice=advice,
                        order=order * 10,
                    )

        done = 0
        for batch in batched(rows(), batch_size):
            with transaction.atomic():
                SideEffect.objects.bulk_create(batch)
            done += len(batch)
        if done:
            self.progress("side effects", done, done)
        return done

    # Comments ------------------------------------------------------------------------

    def create_comments(self, rng, article_rows, counts, total, batch_size):
        created = dict.fromkeys(Comment.Status.values, 0)
        done = 0
        for batch in batched(self.comment_rows(rng, article_rows, counts), batch_size):
            with transaction.atomic():
                insert_rows(Comment, batch)
            for comment in batch:
                created[comment["status"]] += 1
            done += len(batch)
            self.progress("comments", done, total)
        # Statistics first: planned blind, right after the load, the counts below made a
        # million comments' run about 25 s longer.
        analyze_tables([Comment], "ANALYZE")
        # The count each article stores (comments.models), which inserts in bulk do not keep.
        for chunk in batched([pk for pk, _slug, _published in article_rows], 1000):
            recount_approved_comments(chunk)
        return created

    def create_replies(self, rng, article_rows, total, batch_size):
        """`total` approved replies (fewer if there are fewer approved comments) to the approved
        comments just made, each answered at most once, about a tenth of them staff answers;
        returns how many."""
        if not total:
            return 0
        article_pks = [pk for pk, _slug, _published in article_rows]
        questions = Comment.objects.approved().top_level().filter(article_id__in=article_pks).order_by("pk")
        count = questions.count()
        answered = set(rng.sample(range(count), min(total, count)))
        rows = []
        listed = questions.values_list("pk", "article_id", "created_at").iterator(10000)
        for index, (pk, article_pk, asked_at) in enumerate(listed):
            if index not in answered:
                continue
            staff = rng.random() < 0.1
            rows.append(
                {
                    "article_id": article_pk,
                    "parent_id": pk,
                    "author_name": "smpinfo editorial team" if staff else rng.choice(FIRST_NAMES),
                    "author_email": "editors@example.com" if staff else f"reply{len(rows)}@example.com",
                    "body": " ".join(rng.choice(SENTENCES) for _ in range(rng.randrange(1, 3))),
                    "status": Comment.Status.APPROVED.value,
                    "status_reason": "Staff answer" if staff else HELD_REASON,
                    "is_staff_answer": staff,
                    "created_at": min(asked_at + timedelta(minutes=rng.randrange(5, 4320)), self.now),
                    "moderated_at": self.now,
                }
            )
        for done, batch in enumerate(batched(rows, batch_size), start=1):
            with transaction.atomic():
                insert_rows(Comment, batch)
            self.progress("replies", min(done * batch_size, len(rows)), len(rows))
        for chunk in batched(article_pks, 1000):
            recount_approved_comments(chunk)
        return len(rows)

    def comment_rows(self, rng, article_rows, counts):
        """Comments as readers might have written them, `counts[i]` on article i, as rows for
        insert_rows."""
        statuses = [status.value for status, _ in STATUS_WEIGHTS]  # plain text for COPY
        cumulative = []
        running = 0.0
        for _, weight in STATUS_WEIGHTS:
            running += weight
            cumulative.append(running)
        # (name shown, start of the email address) for every first and last name pair.
        people = [
            (f"{first} {last}", f"{slugify(first)}.{slugify(last)}")
            for first in FIRST_NAMES
            for last in LAST_NAMES
        ]
        year_ago = self.now - timedelta(days=365)
        choice, randrange, random_ = rng.choice, rng.randrange, rng.random
        for (article_pk, _slug, published_at), count in zip(article_rows, counts, strict=True):
            start = max(published_at, year_ago)
            span = (self.now - start).total_seconds()
            for _ in range(count):
                status = statuses[bisect.bisect_right(cumulative, random_() * running)]
                name, email = choice(people)
                created_at = start + timedelta(seconds=random_() * span)
                if status == Comment.Status.SPAM:
                    body, reason = choice(SPAM_SENTENCES), choice(SPAM_REASONS)
                    moderated_at = None
                else:
                    body = " ".join(choice(SENTENCES) for _ in range(randrange(1, 4)))
                    reason = HELD_REASON
                    moderated_at = None
                    if status != Comment.Status.PENDING:
                        moderated_at = min(created_at + timedelta(minutes=randrange(10, 2880)), self.now)
                if random_() < 0.85:
                    ip = f"{choice(('192.0.2', '198.51.100', '203.0.113'))}.{randrange(1, 255)}"
                else:
                    ip = f"2001:db8:{randrange(1, 0xFFFF):x}::{randrange(1, 0xFFFF):x}"
                yield {
                    "article_id": article_pk,
                    "author_name": name,
                    "author_email": f"{email}{randrange(1, 500)}@example.com",
                    "body": body,
                    "status": status,
                    "status_reason": reason,
                    "created_at": created_at,
                    "ip_address": ip,
                    "user_agent": choice(USER_AGENTS),
                    "moderated_at": moderated_at,
                }

    # Output and upkeep ----------------------------------------------------------------

    def progress(self, what, done, total):
        percent = done * 100 // total if total else 100
        elapsed = time.monotonic() - self.started
        self.stdout.write(f"{what}: {done:,}/{total:,} ({percent}%) {elapsed:.0f} s")

    def refresh_articles(self, article_rows):
        """What Article.save() derives from an article and its side effects (search index,
        reading time, stored page content), for the new articles: bulk_create skips save().

        On PostgreSQL, in REFRESH_THREADS threads with a connection each: while one waits for
        the database to build a search vector, another renders (about half the time on two
        cores). In a transaction (a test's), or on SQLite, in this thread alone.
        """
        chunks = list(batched([pk for pk, _slug, _published in article_rows], 500))
        if connection.vendor != "postgresql" or connection.in_atomic_block or len(chunks) < 2:
            self.count_refreshed(map(refresh_chunk, chunks), len(article_rows))
            return
        with ThreadPoolExecutor(max_workers=REFRESH_THREADS) as pool:
            self.count_refreshed(pool.map(refresh_chunk_in_own_connection, chunks), len(article_rows))

    def count_refreshed(self, counts, total):
        done = 0
        for count in counts:
            done += count
            self.progress("search index", done, total)

    def rank_related(self, article_rows):
        """Rank the related articles of the new articles and of the others they may join."""
        pks = [pk for pk, _slug, _published in article_rows]
        if len(pks) < Article.objects.count():
            pks = list(Article.objects.values_list("pk", flat=True))  # the older ones may list new ones
        index = RelatedIndex()
        done = 0
        for chunk in batched(pks, 500):
            done += rank_and_store(chunk, index)
            self.progress("related articles", done, len(pks))

    def analyze(self):
        """Leave PostgreSQL's tables as autovacuum would after a while: statistics for the planner,
        and the visibility map that lets counts and the like be answered from an index alone.
        Without it, the first minutes after a bulk load are slower than a running site."""
        if connection.vendor != "postgresql":
            return
        # VACUUM cannot run inside a transaction (as when called from a test): ANALYZE alone then.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        tables = [Article, SideEffect, Comment, Article.topics.through, RelatedArticle, ArticleImage]
        analyze_tables(tables, command)
        self.progress(f"{command.lower()} tables", len(tables), len(tables))
