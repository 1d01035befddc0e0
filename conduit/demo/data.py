"""The demo content that ``make run`` loads: a handful of people and what they wrote."""

from typing import TypedDict


class DemoUser(TypedDict):
    username: str
    email: str
    bio: str
    image: str


class DemoArticle(TypedDict):
    author: str
    title: str
    description: str
    body: str
    tags: list[str]


DEMO_PASSWORD = "conduit-demo"  # noqa: S105 - documented demo accounts, local only

USERS: list[DemoUser] = [
    {
        "username": "ada",
        "email": "ada@demo.conduit.local",
        "bio": "Writes about analytical engines and the poetry of mathematics.",
        "image": "/static/conduit/avatars/ada.svg",
    },
    {
        "username": "grace",
        "email": "grace@demo.conduit.local",
        "bio": "Compilers, COBOL and the occasional nanosecond of wire.",
        "image": "/static/conduit/avatars/grace.svg",
    },
    {
        "username": "linus",
        "email": "linus@demo.conduit.local",
        "bio": "Kernels, version control and strongly held opinions.",
        "image": "/static/conduit/avatars/linus.svg",
    },
    {
        "username": "margaret",
        "email": "margaret@demo.conduit.local",
        "bio": "Software engineering, before it had a name. Also: the Moon.",
        "image": "/static/conduit/avatars/margaret.svg",
    },
    {
        "username": "ken",
        "email": "ken@demo.conduit.local",
        "bio": "Small tools that do one thing well.",
        "image": "/static/conduit/avatars/ken.svg",
    },
]

ARTICLES: list[DemoArticle] = [
    {
        "author": "ada",
        "title": "Notes on the Analytical Engine",
        "description": "What a machine that weaves algebra could do.",
        "body": (
            "# The engine weaves algebraic patterns\n\n"
            "Just as the Jacquard loom weaves flowers and leaves, the engine can weave "
            "*algebraical patterns*.\n\n"
            "## What it cannot do\n\n"
            "It has no pretensions to **originate** anything. It can do whatever we know how "
            "to order it to perform.\n\n"
            "```\nB7 = -1/30\n```\n"
        ),
        "tags": ["history", "mathematics", "computing"],
    },
    {
        "author": "grace",
        "title": "A nanosecond is eleven inches",
        "description": "Why latency is a physical quantity.",
        "body": (
            "Hand out pieces of wire 11.8 inches long: that is how far light travels in a "
            "nanosecond.\n\n"
            "- A satellite link is a long wire.\n"
            "- A cache miss is a *short* wire you took the long way round.\n\n"
            "> It's easier to ask forgiveness than it is to get permission.\n"
        ),
        "tags": ["performance", "history"],
    },
    {
        "author": "grace",
        "title": "Compilers are for people",
        "description": "The first compiler was written so that more people could program.",
        "body": (
            "The point of a compiler was never the machine. It was to let people who are not "
            "mathematicians tell a computer what to do, in words.\n\n"
            "1. Write the program in English-like statements.\n"
            "2. Let the machine translate.\n"
            "3. Spend the saved time on the problem.\n"
        ),
        "tags": ["compilers", "computing"],
    },
    {
        "author": "linus",
        "title": "Talk is cheap, show me the code",
        "description": "On reviews, patches and taste.",
        "body": (
            "Good taste in code is about removing special cases.\n\n"
            "```c\nvoid remove_list_entry(entry **indirect) {\n"
            "    *indirect = (*indirect)->next;\n}\n```\n\n"
            "Read the patch, not the cover letter.\n"
        ),
        "tags": ["code-review", "c"],
    },
    {
        "author": "linus",
        "title": "Why distributed version control",
        "description": "Every clone is a full backup and a place to experiment.",
        "body": (
            "Branches should be cheap enough that you make one for every idea.\n\n"
            "Merging should be boring. If it is exciting, something went wrong earlier.\n"
        ),
        "tags": ["git", "tools"],
    },
    {
        "author": "margaret",
        "title": "Priority displays and the 1202 alarm",
        "description": "Designing software that degrades gracefully under overload.",
        "body": (
            "When the guidance computer was overloaded it did not crash: it dropped the "
            "low-priority jobs and kept flying.\n\n"
            "## Lessons\n\n"
            "- Know which work matters most.\n"
            "- Shed load deliberately, never by accident.\n"
            "- Tell the operator what you shed.\n"
        ),
        "tags": ["reliability", "history", "performance"],
    },
    {
        "author": "margaret",
        "title": "Software engineering deserves the name",
        "description": "Rigor is not the enemy of speed.",
        "body": (
            "We called it *software engineering* to give the work the legitimacy of the other "
            "engineering disciplines. Test the interfaces; most errors live there.\n"
        ),
        "tags": ["reliability", "computing"],
    },
    {
        "author": "ken",
        "title": "Do one thing well",
        "description": "Small programs, plain text, pipes.",
        "body": (
            "Write programs that do one thing and do it well. Write programs to work "
            "together. Write programs to handle text streams.\n\n"
            "```sh\ncat access.log | cut -d' ' -f1 | sort | uniq -c | sort -rn | head\n```\n"
        ),
        "tags": ["unix", "tools"],
    },
    {
        "author": "ken",
        "title": "Reflections on trusting trust",
        "description": "You can't trust code that you did not totally create yourself.",
        "body": (
            "No amount of source-level verification will protect you from using untrusted "
            "code. Reproducible builds are the modern answer to an old question.\n"
        ),
        "tags": ["security", "compilers"],
    },
    {
        "author": "ada",
        "title": "Poetical science",
        "description": "Imagination is the discovering faculty.",
        "body": (
            "Mathematical science shows what is. It is the language of unseen relations "
            "between things.\n\n*Imagination* is the discovering faculty, pre-eminently.\n"
        ),
        "tags": ["mathematics"],
    },
]

FOLLOWS: list[tuple[str, str]] = [
    ("ada", "grace"),
    ("ada", "margaret"),
    ("grace", "ada"),
    ("linus", "ken"),
    ("margaret", "ada"),
    ("ken", "linus"),
    ("ken", "grace"),
]

# (user, title of the article they favorite)
FAVORITES: list[tuple[str, str]] = [
    ("grace", "Notes on the Analytical Engine"),
    ("margaret", "Notes on the Analytical Engine"),
    ("ken", "Notes on the Analytical Engine"),
    ("ada", "A nanosecond is eleven inches"),
    ("linus", "Do one thing well"),
    ("ada", "Priority displays and the 1202 alarm"),
    ("ken", "Priority displays and the 1202 alarm"),
]

# (author of the comment, title of the article, body)
COMMENTS: list[tuple[str, str, str]] = [
    ("grace", "Notes on the Analytical Engine", "The first program, and still a good read."),
    ("margaret", "Notes on the Analytical Engine", "Note G deserves its own article."),
    ("ada", "A nanosecond is eleven inches", "I shall carry a piece of wire from now on."),
    ("ken", "Talk is cheap, show me the code", "Fewer special cases, fewer bugs."),
    ("linus", "Do one thing well", "And pipe it into the next thing."),
]
