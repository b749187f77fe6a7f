"""The documentation stays true: the security review names real tests, and every link in README.md and docs/ works.

Links are checked offline. A relative link must name a file or folder of the
repository, and a `#anchor` must name a heading of the Markdown file it points to
(GitHub's heading slugs: lower case, punctuation dropped, spaces become hyphens,
repeated headings get -1, -2, ...). An absolute http(s) link is not fetched but
must be well-formed. Code blocks and code spans are not links.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*?(?:id|name)\s*=\s*["']([^"']+)["']""", re.I)
# [text](target) and ![alt](target), with an optional "title"; <target> in angle brackets allowed.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]*)>", re.I)


def _without_code(text: str) -> str:
    """The text with fenced code blocks removed and code spans emptied (their content is no link)."""
    text = _FENCE.sub("", text)
    return _CODE_SPAN.sub("``", text)


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: rendered text, lower case, punctuation dropped, spaces to hyphens."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)  # code spans render as their text
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links render as their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "")  # emphasis markers
    kept = [c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LNM"]
    return "".join(kept).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor of a Markdown file: its headings' slugs (numbered when repeated) and HTML ids."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    without_fences = _FENCE.sub("", markdown)
    for match in _HEADING.finditer(without_fences):
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    out.update(_HTML_ANCHOR.findall(without_fences))
    return out


def links(markdown: str) -> list[str]:
    """The targets of every link outside code: inline links and images, reference definitions, autolinks."""
    text = _without_code(markdown)
    found = [m.group(1) for m in _INLINE_LINK.finditer(text)]
    found += [m.group(1) for m in _REFERENCE_DEF.finditer(text)]
    found += [m.group(1) for m in _AUTOLINK.finditer(text)]
    return [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in found]


def link_problem(source: Path, target: str, root: Path = ROOT) -> str | None:
    """Why a link in `source` is broken (None when it is fine)."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        if not parts.netloc or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", parts.netloc.rsplit("@", 1)[-1]):
            return f"malformed URL {target!r}"
        if any(c.isspace() for c in target):
            return f"URL with white space {target!r}"
        return None
    if parts.scheme == "mailto":
        return None if "@" in parts.path else f"malformed e-mail link {target!r}"
    if parts.scheme or parts.netloc:
        return f"unsupported link {target!r} (use a relative path or http(s))"
    if not target:
        return "empty link"
    path, anchor = unquote(parts.path), unquote(parts.fragment)
    file = (source.parent / path).resolve() if path else source
    if root.resolve() not in (file, *file.parents):
        return f"{target!r} points outside the repository"
    if not file.exists():
        return f"{target!r}: no such file {file.relative_to(root.resolve())}"
    if parts.fragment:
        if file.suffix != ".md":
            return f"{target!r}: anchors are only checked in Markdown files"
        if anchor not in anchors(file.read_text("utf-8")):
            return f"{target!r}: {file.name} has no heading with the anchor #{anchor}"
    return None


def broken_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """`file: problem` for every broken link in the files."""
    problems = []
    for file in files:
        for target in links(file.read_text("utf-8")):
            problem = link_problem(file, target, root)
            if problem:
                problems.append(f"{file.relative_to(root)}: {problem}")
    return problems


def test_every_link_in_readme_and_docs_works():
    assert len(DOCS) > 5
    assert sum(len(links(f.read_text("utf-8"))) for f in DOCS) > 20
    assert broken_links(DOCS) == []


def test_every_document_in_docs_is_reachable_from_the_readme():
    """Following links from README.md (through other documents too) reaches every file in docs/."""
    reached, todo = set(), [ROOT / "README.md"]
    while todo:
        doc = todo.pop()
        if doc in reached:
            continue
        reached.add(doc)
        for target in links(doc.read_text("utf-8")):
            parts = urlsplit(target)
            if parts.scheme or not parts.path.endswith(".md"):
                continue
            linked = (doc.parent / unquote(parts.path)).resolve()
            if linked.is_file():
                todo.append(linked)
    unreached = [f"docs/{f.name}" for f in DOCS[1:] if f.resolve() not in reached]
    assert unreached == [], "link these from README.md or from a document it links"


def test_readme_is_short_and_keeps_the_two_commands():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make run" in readme and "make test" in readme
    assert len(readme.splitlines()) <= 130


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Two commands", "two-commands"),
        ("The wizard (works without JavaScript)", "the-wizard-works-without-javascript"),
        ("`asked_when`: branching as data", "asked_when-branching-as-data"),
        ("Performance, 2026-11-23", "performance-2026-11-23"),
        ("Manager area, exports & documents", "manager-area-exports--documents"),
        ("Prüfung für Änderungen", "prüfung-für-änderungen"),
        ("A [linked](x.md) **bold** heading", "a-linked-bold-heading"),
    ],
)
def test_github_slugs(heading, slug):
    assert github_slug(heading) == slug


def test_the_link_check_finds_broken_links(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## Part one\n\n## Part one\n", "utf-8")
    doc = tmp_path / "docs" / "doc.md"
    doc.write_text(
        "# Doc\n\n## Here\n\n"
        "[ok](other.md) [ok](other.md#part-one) [ok](other.md#part-one-1) [ok](#here) [ok](../docs/)\n"
        "[ok](https://example.org/a?b=c#d) <https://example.org> [ok][ref]\n\n"
        "`[not a link](nowhere.md)`\n\n```md\n[not a link](nowhere.md)\n## Not a heading\n```\n\n"
        "[missing file](nowhere.md) [missing anchor](other.md#part-two) [missing here](#not-a-heading)\n"
        "[bad url](https:///path) [outside](../../elsewhere.md) [odd](ftp://example.org/x)\n\n"
        "[ref]: other.md#other\n",
        "utf-8",
    )
    problems = broken_links([doc], tmp_path)
    assert len(problems) == 6, problems
    for word in ("nowhere.md", "#part-two", "#not-a-heading", "https:///path", "outside", "ftp://"):
        assert any(word in p for p in problems), (word, problems)


def test_security_review_cites_existing_tests():
    review = (ROOT / "docs" / "security.md").read_text("utf-8")
    cited = re.findall(r"`(test_\w+\.py)::(\w+)`", review)
    assert len(cited) >= 20
    missing = [f"{file}::{name}" for file, name in cited if f"def {name}(" not in (ROOT / "tests" / file).read_text("utf-8")]
    assert missing == []
