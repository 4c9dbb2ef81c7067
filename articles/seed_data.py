"""Content of the seed articles, written from shared/content/side-effects-facts.md.

The seed_content command creates these articles once; editors own them afterwards.
"""

WHAT_IS_SMP = {
    "title": "What is scalp micropigmentation?",
    "slug": "what-is-scalp-micropigmentation",
    "summary": (
        "Scalp micropigmentation is a non-invasive, cosmetic treatment for hair loss that "
        "uses tiny dots of pigment to give the look of short hair or a fuller head of hair."
    ),
    "body": (
        "Scalp micropigmentation, often shortened to SMP, is a cosmetic treatment for hair "
        "loss. It is non-invasive, and its aim is simple: to change how the scalp looks.\n"
        "\n"
        "## How it works\n"
        "\n"
        "During the treatment, tiny dots of pigment are placed in the scalp. Seen together, "
        "these small dots give the appearance of hair. Depending on the look a person wants, "
        "the result can resemble short hair, or it can make the hair that is already there "
        "look fuller.\n"
        "\n"
        "## Who it is for\n"
        "\n"
        "SMP is meant for people who are dealing with hair loss and would like their scalp "
        "to look different. Some choose it to create the look of a closely cropped head of "
        "hair. Others use it so that their existing hair appears thicker.\n"
        "\n"
        "## A cosmetic treatment\n"
        "\n"
        "SMP is about appearance. It works on how the scalp looks, using pigment: the "
        "effect comes from the tiny dots, which together create the look of hair.\n"
        "\n"
        "## Before you decide\n"
        "\n"
        "Like any cosmetic treatment, SMP is worth understanding fully before you book. "
        "Some people notice side effects after their treatment, and it helps to know what "
        "they are and what they mean. You can read about them in our guide to the "
        "[side effects of scalp micropigmentation]"
        "(/articles/side-effects-of-scalp-micropigmentation/)."
    ),
}

SIDE_EFFECTS_ARTICLE = {
    "title": "Side Effects of Scalp Micropigmentation",
    "slug": "side-effects-of-scalp-micropigmentation",
    "summary": (
        "Some people get side effects after scalp micropigmentation. Here are the six you "
        "may hear about, how common they are, what causes them and what to do."
    ),
    "body": (
        "Scalp micropigmentation (SMP) is a non-invasive, cosmetic treatment for hair loss. "
        "Tiny dots of pigment are placed in the scalp to give the look of short hair or a "
        "fuller head of hair. If you are new to the treatment, start with our guide to "
        "[what scalp micropigmentation is](/articles/what-is-scalp-micropigmentation/).\n"
        "\n"
        "Most of what happens after treatment is simple to understand, but some people do "
        "get side effects. Knowing about them in advance makes it easier to tell what is "
        "part of normal healing and when your choice of practitioner matters.\n"
        "\n"
        "Below, we list each side effect in turn: how common it is, how long it tends to "
        "last, what causes it and what you can do about it."
    ),
    "side_effects": [
        {
            "name": "Swollen lymph nodes",
            "frequency": "Occasional; common with tattooing in general",
            "duration": "Goes away with time",
            "description": (
                "Now and then, people notice swollen lymph nodes after SMP. These show up as "
                "small, round lumps on the surface of the scalp, at the back of the head.\n"
                "\n"
                "This is a common reaction to tattooing in general, not something unique to "
                "SMP. The swelling goes away with time."
            ),
            "cause": (
                "Swollen lymph nodes can come from pigments that are not sterile or are not "
                "suitable for the treatment."
            ),
            "advice": "This is not a cause for alarm; the swelling goes away with time.",
        },
        {
            "name": "Redness",
            "frequency": "Most common side effect",
            "duration": "Usually one to two days",
            "description": (
                "Redness of the scalp is the side effect people get most often. It usually "
                "lasts one to two days."
            ),
            "cause": "The redness happens because the needles perforate the skin.",
            "advice": "No treatment is needed; the redness heals by itself.",
        },
        {
            "name": "Itchy scalp",
            "frequency": "Common, a few days after treatment",
            "duration": "Usually gone within a week",
            "description": (
                "It is common for the scalp to start itching a few days after treatment. The "
                "itch is usually gone within a week."
            ),
            "cause": ("As the skin heals, it forms scabs, and the dry patches that result can itch."),
            "advice": "Let the skin heal.",
        },
        {
            "name": "Allergic reaction",
            "frequency": "Some people",
            "duration": "",
            "description": (
                "Some people have an allergic reaction after SMP. This is usually an allergy "
                "to the ink itself.\n"
                "\n"
                "A reaction can also come from tools that are not kept clean, which is more "
                "of a risk with practitioners who lack experience."
            ),
            "cause": (
                "Some inks contain reactants and heavy metals that can trigger an allergy. "
                "Unsanitary tools used by inexperienced practitioners can also cause a "
                "reaction."
            ),
            "advice": "Choose a practitioner who is hygienic and experienced.",
        },
        {
            "name": "Blueness of the scalp",
            "frequency": "Some people",
            "duration": "",
            "description": (
                "Some people find that the pigment dots on their scalp take on a blue tint.\n"
                "\n"
                "This tends to happen when the practitioner is not properly trained. In some "
                "cases, though, what looks like blueness is only bruising."
            ),
            "cause": (
                "The dots can turn blue when an untrained practitioner uses ordinary tattoo "
                "ink, or places the ink too deep so that the immune system reacts. Sometimes "
                "the blue color is only bruising."
            ),
            "advice": "Go to a reputable clinic with well-trained, experienced artists.",
        },
        {
            "name": "Mid-treatment fading",
            "frequency": "Not a side effect; a perception",
            "duration": "",
            "description": (
                "Some people feel that their pigment is fading partway through their course "
                "of treatment. This is not actually a side effect: it is a matter of how the "
                "scalp looks at that stage.\n"
                "\n"
                "Between sessions the scalp peels, and as it does, smaller dots show through. "
                "That can look like fading, but it is a misconception."
            ),
            "cause": (
                "As the scalp peels between sessions, smaller dots become visible, which can "
                "look like fading."
            ),
            "advice": "This is a misconception, so there is no reason to worry.",
        },
    ],
}

# The seed articles' byline: the publication itself. No named person is invented; the
# owner adds real authors with their real credentials.
EDITORIAL_TEAM = {
    "name": "smpinfo editorial team",
    "slug": "smpinfo-editorial-team",
    "is_organization": True,
    "credentials": "",
    "bio": (
        "The smpinfo editorial team writes and updates the articles on this site. "
        "Each article names who wrote it and, once it has had one, who medically reviewed "
        "it and when. Read our [editorial policy](/editorial-policy/) to see how articles "
        "are written, reviewed and corrected."
    ),
}

# The seed articles' topics, by the article's slug: subjects to file later articles under
# too, which editors rename or describe in the admin ("Topics").
SEED_TOPICS = {
    "what-is-scalp-micropigmentation": {
        "name": "SMP basics",
        "slug": "smp-basics",
        "summary": "What scalp micropigmentation is, how it is done and what it can and cannot do.",
    },
    "side-effects-of-scalp-micropigmentation": {
        "name": "Side effects and aftercare",
        "slug": "side-effects-and-aftercare",
        "summary": (
            "What to expect after a session, what is usual while the scalp heals, and when to see a doctor."
        ),
    },
}

# Starting text of the site pages, for the owner to edit in the admin ("Site pages").
SITE_PAGES = [
    {
        "slug": "about",
        "title": "About smpinfo",
        "body": (
            "smpinfo publishes plain-language information about scalp micropigmentation "
            "(SMP): what the treatment is, how it works and what side effects people may notice "
            "afterwards.\n"
            "\n"
            "The articles explain SMP in general terms. They are health information, not "
            "medical advice, and they do not replace a consultation with a doctor or your "
            "practitioner.\n"
            "\n"
            "Every article shows who wrote it, whether it has been medically reviewed and when, "
            "and the sources it relies on. Our [editorial policy](/editorial-policy/) explains how."
        ),
    },
    {
        "slug": "editorial-policy",
        "title": "Editorial policy",
        "body": (
            "## How articles are written\n"
            "\n"
            "Articles are written by the authors named in their byline. Each author has a "
            "profile page listing their qualifications, when they have any relevant to the "
            "subject. Articles written by the editorial team as a whole are signed by the "
            "“smpinfo editorial team”.\n"
            "\n"
            "## How articles are reviewed {#medical-review}\n"
            "\n"
            "A medical reviewer, named with their credentials, can check an article before or "
            "after it is published. The review is recorded against the exact content the "
            "reviewer read:\n"
            "\n"
            "- “Medically reviewed by …” means that the article you are reading is the one "
            "the reviewer approved, on the date shown.\n"
            "- “Updated since its last medical review” means that the text, side effects or "
            "sources changed after that review; the change has not been reviewed yet.\n"
            "- “This article has not yet been medically reviewed” means what it says.\n"
            "\n"
            "Reviewers cannot change what they review, and an author cannot approve their own "
            "article. Each article is due for another review a year after its last one.\n"
            "\n"
            "## Sources\n"
            "\n"
            "When an article relies on a published source, it cites it in the text and lists "
            "it under “References” at the end of the article.\n"
            "\n"
            "## Corrections\n"
            "\n"
            "If you think an article is wrong or out of date, say so in its comments (when "
            "they are open). A corrected article shows the date of its update, and it is "
            "reviewed again."
        ),
    },
    {
        "slug": "privacy",
        "title": "Privacy",
        "body": (
            "## Comments\n"
            "\n"
            "When you leave a comment, we store what you typed in the form (your name, your "
            "email address and your comment), the time you sent it, and your IP address and "
            "browser (user agent).\n"
            "\n"
            "- Your **name** and **comment** are shown publicly once a moderator approves "
            "the comment.\n"
            "- Your **email address** is never shown. Moderators see it.\n"
            "- Your **IP address and browser** help us stop spam and abuse. They are "
            "deleted 30 days after you comment.\n"
            "- If you tick **“Email me when my comment is published and when someone "
            "replies”**, we keep your email address for those emails, with when you confirmed "
            "it and when you unsubscribed. Nothing is sent before you confirm it, and every "
            "email has a one-click unsubscribe.\n"
            "\n"
            "To have your comments anonymized or deleted, contact the site's owner with the "
            "email address you used: the name becomes “Anonymous”, the email, IP address and "
            "browser are removed, and, if you ask, the comments are deleted.\n"
            "\n"
            "## Cookies\n"
            "\n"
            "Reading the site sets no tracking cookie. The comment form uses a security "
            "cookie (CSRF) that protects it from forged submissions."
        ),
    },
]
