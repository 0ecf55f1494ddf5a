"""Markdown with LaTeX math as HTML (the math as MathML, which browsers render natively: no
script, no CDN), the one stylesheet of jaxdl's pages, and a page printed to PDF by a headless
Chromium (which lays the MathML out as a browser does)."""

from __future__ import annotations

import base64
import functools
import html
import os
import re
import shutil
import subprocess
import tempfile

from jaxdl.errors import InputError

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; color: #1d1d1f;
       max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .4rem 0; z-index: 1; }
nav a { margin-right: 1rem; text-decoration: none; color: #0b5cad; }
h1 { font-size: 1.8rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; border-radius: 6px; font-size: .88rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
math[display="block"] { display: block; margin: .8rem 0; overflow-x: auto; overflow-y: hidden; padding: .2rem 0; }
mtable.bmatrix { padding: 0 .35em; margin: 0 .15em;
  background: linear-gradient(currentColor, currentColor) left top / .3em 1.5px no-repeat,
              linear-gradient(currentColor, currentColor) left bottom / .3em 1.5px no-repeat,
              linear-gradient(currentColor, currentColor) left top / 1.5px 100% no-repeat,
              linear-gradient(currentColor, currentColor) right top / .3em 1.5px no-repeat,
              linear-gradient(currentColor, currentColor) right bottom / .3em 1.5px no-repeat,
              linear-gradient(currentColor, currentColor) right top / 1.5px 100% no-repeat; }
img { max-width: 100%; height: auto; margin: .5rem 0; }
.ok { color: #137333; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.muted { color: #666; font-size: .9rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.figures figure { margin: 0; max-width: 30rem; } figcaption { font-size: .85rem; color: #555; }
"""


def markdown_renderer(prefix: str = "", math: str = "mathml"):
    """markdown-it with tables and ``$…$``/``$$…$$`` math turned into MathML, or with
    ``math="tex"`` kept as TeX between ``\\(…\\)`` and ``\\[…\\]`` (for a MathJax filter, e.g.
    Moodle's)."""
    if math not in ("mathml", "tex"):
        raise ValueError(f"markdown_renderer: math must be 'mathml' or 'tex'; got {math!r}")
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    from mdit_py_plugins.anchors import anchors_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, double_inline=True)
    # "## E1 — MLP …" gets id="e1", "## Errata: …" id="errata": the page's navigation links to them.
    md.use(anchors_plugin, min_level=2, max_level=2, slug_func=lambda title: prefix + slug(title))

    def inline(self, tokens, idx, options, env):
        if math == "tex":
            return r"\(" + html.escape(tokens[idx].content.strip()) + r"\)"
        return _mathml(tokens[idx].content.strip(), "inline")

    def block(self, tokens, idx, options, env):
        if math == "tex":
            return r"\[" + html.escape(tokens[idx].content.strip()) + r"\]" + "\n"
        return _mathml(tokens[idx].content.strip(), "block") + "\n"

    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", block)
    md.add_render_rule("math_block", block)
    return md


@functools.lru_cache(maxsize=4096)
def _mathml(tex: str, display: str) -> str:
    """``tex`` as MathML (a formula repeats across sheets and variants: converted once)."""
    from latex2mathml.converter import convert

    return _brackets(convert(tex, display=display))


_BMATRIX = re.compile(r"<mo>&#x0005B;</mo><mtable>(.*?)</mtable><mo>&#x0005D;</mo>", re.S)


def _brackets(mathml: str) -> str:
    """A matrix's brackets drawn by CSS (``mtable.bmatrix``): a ``[`` glyph grows to the matrix's
    height only with an OpenType math font, which many machines lack."""
    return _BMATRIX.sub(r'<mtable class="bmatrix">\1</mtable>', mathml)


def slug(title: str) -> str:
    return "".join(c for c in title.split()[0].lower() if c.isalnum())


# The printed sheet: A4, each problem on its own pages, room to work in the students' edition.
PRINT_STYLE = """
@page { size: A4; margin: 16mm 15mm 16mm 15mm; }
body { max-width: none; padding: 0; font-size: 10.5pt; }
h1 { font-size: 1.5rem; margin-top: 0; }
h2 { break-before: page; margin-top: 0; }
h1 + p + p + h2, .first-problem { break-before: avoid; }
h3 { font-size: 1.05rem; margin-top: 1rem; }
pre { white-space: pre-wrap; font-size: .8rem; break-inside: avoid; }
table { break-inside: avoid; }
math[display="block"] { overflow: visible; }
blockquote { border: 1px dashed #999; margin: .6rem 0; padding: .4rem .8rem; min-height: 7.5cm; color: #555; break-inside: avoid;
             display: flex; flex-direction: column; }
blockquote > p:last-child { margin: auto 0 0; text-align: right; font-size: .75em; color: #aaa; }
img { max-height: 12cm; }
"""


def browser() -> str | None:
    """A Chromium on this machine (Debian's chromium, or Chrome), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def inline_images(page: str, base: str) -> str:
    """Every ``<img src="relative path">`` of ``page`` made a data URI (the page then stands alone)."""
    def inline(m):
        src = m.group(1)
        path = src if os.path.isabs(src) else os.path.join(base, src)
        kind = "image/svg+xml" if path.endswith(".svg") else "image/png"
        try:
            with open(path, "rb") as f:
                data = base64.b64encode(f.read()).decode()
        except OSError:
            return m.group(0)
        return f'src="data:{kind};base64,{data}"'

    return re.sub(r'src="([^"]+)"', inline, page)


def standalone(body_md: str, title: str, lang: str, figures_base: str, extra_style: str = "") -> str:
    """A whole HTML page for Markdown ``body_md``, its pictures inlined."""
    body = markdown_renderer().render(body_md)
    page = (f"<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}{extra_style}</style>\n</head>\n<body>\n{body}\n"
            "</body>\n</html>\n")
    return inline_images(page, figures_base)


_PDF_DATES = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}")
_PDF_NODES = re.compile(rb"\(node(\d{8})\)")


def fix_pdf_dates(pdf_path: str) -> None:
    """Sets a Chromium PDF's creation and modification dates to 2000-01-01 and numbers the
    structure tree's element ids (``/ID (node00000173)``: Chromium's DOM node numbers, which
    depend on timing on a busy machine) from 0 in their own order — the only bytes that differ
    between two printings of one page — keeping every offset and the id tree's order: the same
    page then gives the same file."""
    with open(pdf_path, "rb") as f:
        data = f.read()
    data = _PDF_DATES.sub(lambda m: b"/" + m.group(1) + b" (D:20000101000000", data)
    nodes = sorted(set(_PDF_NODES.findall(data)), key=int)
    rank = {v: b"%0*d" % (len(v), i) for i, v in enumerate(nodes)}
    data = _PDF_NODES.sub(lambda m: b"(node" + rank[m.group(1)] + b")", data)
    with open(pdf_path, "wb") as f:
        f.write(data)


def print_pdf(html_path: str, pdf_path: str, timeout: float = 120.0) -> None:
    """Prints ``html_path`` to ``pdf_path`` with a headless Chromium (its dates fixed: the same page
    gives the same file).

    Raises:
      InputError: no Chromium on this machine.
      RuntimeError: Chromium failed (its last words in the message).
    """
    exe = browser()
    if exe is None:
        raise InputError("jaxdl exam --pdf: no Chromium found (install Debian's chromium, or Chrome); the PDF is "
                         "printed from the sheet's HTML by a headless browser")
    with tempfile.TemporaryDirectory(prefix="jaxdl-pdf-") as profile:
        done = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
             "--print-to-pdf-no-header", f"--print-to-pdf={os.path.abspath(pdf_path)}",
             "file://" + os.path.abspath(html_path)],
            capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0 or not os.path.isfile(pdf_path):
        raise RuntimeError(f"Chromium could not print {html_path}: {done.stderr.strip()[-300:]}")
    fix_pdf_dates(pdf_path)  # the same page, the same bytes
