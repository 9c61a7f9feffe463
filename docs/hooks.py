"""mkdocs hooks: the objective pages and the index table follow the registry.

`mkdocs.yml` lists this file under `hooks:`. The "Objectives" section of
the navigation starts with one page per registered objective, and the
`<!-- objectives -->` line of `index.md` becomes a table of them, so a new
objective (its page `docs/objectives/<name>.md`) needs no edit of the nav
or the index.
"""

import os

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
SECTION = "Objectives"
MARKER = "<!-- objectives -->"


def registered():
    """`{name: class}` of the package's registered objectives."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras_objectives import objectives

    return {name: objectives.get_class(name) for name in objectives.names()
            if objectives.get_class(name).__module__.startswith(
                "keras_objectives.")}


def page_of(cls):
    """`objectives/<name>.md` of the class or of its nearest registered
    base that has a page (UL2 is on the mixture page); `None` if none."""
    for base in cls.__mro__:
        name = vars(base).get("name")
        path = f"objectives/{name}.md"
        if name and os.path.isfile(os.path.join(DOCS, path)):
            return path
    return None


def title_of(path):
    """The page's first `# ` heading."""
    with open(os.path.join(DOCS, path), encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                return line[2:].strip()
    return path


def objective_pages():
    """`[(title, page, [names])]`, one per page, in registry order."""
    pages = {}
    for name, cls in registered().items():
        page = page_of(cls)
        if page is None:
            raise ValueError(
                f"The objective {name!r} has no page: add "
                f"docs/objectives/{name}.md.")
        pages.setdefault(page, []).append(name)
    return [(title_of(page), page, names) for page, names in pages.items()]


def on_config(config, **kwargs):
    """Put one nav entry per objective page first in the Objectives
    section (the section's other pages follow)."""
    for entry in config["nav"]:
        if isinstance(entry, dict) and SECTION in entry:
            pages = objective_pages()
            listed = {page for _, page, _ in pages}
            rest = [e for e in entry[SECTION]
                    if not (isinstance(e, dict)
                            and set(e.values()) <= listed)]
            entry[SECTION] = [{t: p} for t, p, _ in pages] + rest
    return config


def index_table():
    """The index's table: objective names, page, recipe, summary."""
    rows = ["| objective | page | recipe | summary |", "|---|---|---|---|"]
    classes = registered()
    for title, page, names in objective_pages():
        recipes = [f"`recipes/{n}.py`" for n in names
                   if os.path.isfile(os.path.join(ROOT, "recipes",
                                                  f"{n}.py"))]
        summary = (classes[names[0]].__doc__ or "").strip().split("\n")[0]
        shown = ", ".join(f"`{n}`" for n in names)
        rows.append(f"| {shown} | [{title}]({page}) | "
                    f"{', '.join(recipes)} | {summary} |")
    return "\n".join(rows)


def on_page_markdown(markdown, page=None, **kwargs):
    """Replace the index's marker line by the table."""
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, index_table())
    return markdown
