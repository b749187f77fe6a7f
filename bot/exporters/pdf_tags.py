"""A tagged PDF with fpdf2: the logical structure (headings, paragraphs, lists, tables) that screen readers follow.

fpdf2 builds a structure tree only for images and links and has no public API for
more (py-pdf/fpdf2 issues 355 and 792). Its tree classes and its writer do the rest:
this module puts its own nested elements in place of fpdf2's flat builder, wraps each
piece of text in a marked-content sequence with its MCID, and marks borders, fills and
the running footer as artifacts. Tested through poppler (`pdfinfo -struct-text`), so a
new fpdf2 that changes these internals fails the tests rather than the users.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fpdf import FPDF
from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFObject


class Element(StructElem):
    """A structure element that may sit inside another one, with the attributes tables need (/A)."""

    __slots__ = ("a",)

    def __init__(self, role: str, parent: PDFObject, page_number: int, attributes: str | None = None) -> None:
        super().__init__(struct_type=f"/{role}", parent=parent, kids=[], page_number=page_number)
        self.a = attributes


class ContentRef:
    """A marked-content reference on another page than the element's own (a paragraph that runs over a page break)."""

    def __init__(self, page: PDFObject, mcid: int) -> None:
        self.page = page
        self.mcid = mcid

    def serialize(self, **_: Any) -> str:
        """The inline /MCR dictionary (the page's object number is known by the time the tree is written)."""
        return f"<</Type /MCR /Pg {self.page.ref} /MCID {self.mcid}>>"


class TagTree(StructureTreeBuilder):
    """fpdf2's structure tree builder, holding a nested tree: the writer serialises every element it yields."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []

    def empty(self) -> bool:
        """Whether nothing was tagged (then fpdf2 writes no structure tree)."""
        return not self.elements

    def __iter__(self) -> Iterator[PDFObject]:
        """The root, the document element, the parent tree, then every element (fpdf2's writer numbers them in this order)."""
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree
        yield from self.elements


class Tagger:
    """Tags what an FPDF document draws: `group` for containers, `content` for text, `artifact` for decoration."""

    def __init__(self, pdf: FPDF, lang: str, title: str) -> None:
        """Install the tree on `pdf` and set what PDF/UA asks of the catalogue: language, title shown as the window title."""
        from fpdf.prefs import ViewerPreferences

        self.pdf = pdf
        self.tree = TagTree()
        pdf.struct_builder = self.tree
        pdf.set_lang(lang)
        pdf.set_title(title)
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        self.stack: list[PDFObject] = [self.tree.doc_struct_elem]
        self.mcids: dict[int, int] = {}  # page number -> next MCID
        self.in_artifact = False

    def _element(self, role: str, attributes: str | None = None) -> Element:
        parent = self.stack[-1]
        element = Element(role, parent, self.pdf.page, attributes)
        parent.k.append(element)  # type: ignore[attr-defined]  # StructElem and the Document element both have kids
        self.tree.elements.append(element)
        return element

    @contextmanager
    def group(self, role: str, attributes: str | None = None) -> Iterator[Element]:
        """A container element (Sect, L, LI, Table, TR, …): what is tagged inside belongs to it."""
        element = self._element(role, attributes)
        self.stack.append(element)
        try:
            yield element
        finally:
            self.stack.pop()

    def _mark(self, element: Element) -> None:
        """Begin a marked-content sequence for `element` on the current page and record it in the parent tree."""
        page = self.pdf.page
        mcid = self.mcids.get(page, 0)
        self.mcids[page] = mcid + 1
        pdf_page = self.pdf.pages[page]
        if element.page_number() == page:
            element.k.append(mcid)
        else:
            element.k.append(ContentRef(pdf_page, mcid))
        spid = self.tree.spid_per_page_number.setdefault(page, len(self.tree.spid_per_page_number))
        pdf_page.struct_parents = spid
        self.tree.struct_tree_root.parent_tree.nums[spid].append(element)
        self.pdf._out(f"{element.s} <</MCID {mcid}>> BDC")

    @contextmanager
    def content(self, role: str, attributes: str | None = None) -> Iterator[Element]:
        """An element whose text is drawn inside the block (P, H1, TD, Lbl, …); see `page_break` for text that runs over a page."""
        element = self._element(role, attributes)
        self._mark(element)
        try:
            yield element
        finally:
            self.pdf._out("EMC")

    def page_break(self, element: Element) -> None:
        """A new page in the middle of `element`'s text: its marked content ends here and goes on there (the footer in between is an artifact)."""
        self.pdf._out("EMC")
        self.pdf.add_page()
        self._mark(element)

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """Drawing that is not content: borders, fills, rules, the running footer, a repeated table header."""
        if self.in_artifact:
            yield
            return
        self.in_artifact = True
        self.pdf._out("/Artifact BMC")
        try:
            yield
        finally:
            self.pdf._out("EMC")
            self.in_artifact = False


# The /A attribute of a table's column header cells (PDF/UA: header cells say what they head).
COLUMN_HEADER = "<</O /Table /Scope /Column>>"
__all__ = ["COLUMN_HEADER", "Element", "Tagger"]
