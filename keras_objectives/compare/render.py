"""Render the report's renderer-neutral blocks as Markdown and HTML.

A block is a tuple: `("h1"|"h2"|"h3", text)`, `("p", text)`, `("ul",
items)`, `("table", header, rows)` or `("figure", stem, title, caption,
png_bytes)`. Inline `**bold**` and `` `code` `` work in both renderers;
the HTML is self-contained (CSS inline, figures as base64 PNG).
"""

import base64
import html
import re


def _md_inline(text):
    return str(text).replace("|", "\\|")


def render_markdown(blocks):
    out = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(map(_md_inline, header)) + " |",
                     "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(map(_md_inline, r)) + " |"
                      for r in rows]
            out.append("\n".join(lines))
        elif kind == "figure":
            _, stem, title, caption, _ = block
            out.append(f"![{title}](plots/{stem}.png)\n\n*{caption}*")
    return "\n\n".join(out) + "\n"


def _html_inline(text):
    text = html.escape(str(text))
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;
max-width:1180px;margin:2em auto;padding:0 1.2em;color:#1d2330;
line-height:1.5}
h1{border-bottom:3px solid #2b6cb0;padding-bottom:.3em}
h2{margin-top:1.8em;border-bottom:1px solid #d5dbe5;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:.88em;width:auto}
th,td{border:1px solid #d5dbe5;padding:.35em .6em;text-align:left;
vertical-align:top}
th{background:#eef3fa}tr:nth-child(even) td{background:#f8fafc}
code{background:#f1f3f6;padding:0 .25em;border-radius:3px}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #e2e8f0}
figcaption{color:#4a5568;font-size:.9em}
td:first-child{font-weight:600}
"""


def render_html(blocks):
    title = next((b[1] for b in blocks if b[0] == "h1"), "Comparison")
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
           f"{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{_html_inline(block[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_html_inline(block[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>"
                                        for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{_html_inline(h)}</th>" for h in block[1])
            body = "".join(
                "<tr>" + "".join(
                    f"<td{' class=failed' if 'FAILED' in str(c) else ''}>"
                    f"{_html_inline(c)}</td>" for c in row) + "</tr>"
                for row in block[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}"
                       "</tbody></table>")
        elif kind == "figure":
            _, stem, title_, caption, png = block
            data = base64.b64encode(png).decode("ascii")
            out.append(f"<figure><h3>{html.escape(title_)}</h3><img alt="
                       f"'{html.escape(title_)}' src='data:image/png;base64,"
                       f"{data}'><figcaption>{html.escape(caption)}"
                       "</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out).replace(
        "</style>", "td.failed{color:#b91c1c;font-weight:700}</style>", 1)


