"""Which uploaded files are accepted as evidence: the type is read from the content, never from the name.

Allowed: PDF, PNG, JPEG, WebP, DOCX, XLSX, ODT and plain UTF-8 text. Never SVG or
HTML (they run script when opened in a browser), and nothing else: an HTML page
renamed to `contract.pdf` is refused because it does not start like a PDF. The
office formats are ZIP packages: the package's own manifest decides which one it is.
"""

from __future__ import annotations

import io
import zipfile

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
TEXT = "text/plain; charset=utf-8"

# The file name extension a download gets for each type (the stored name keeps what the manager gave).
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", WEBP: ".webp", DOCX: ".docx", XLSX: ".xlsx", ODT: ".odt", TEXT: ".txt"}

# Markup a browser would render: text that contains any of these (case-insensitive, near the start) is not plain text.
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<head", b"<iframe", b"<object", b"<embed", b"<meta")


def _office_type(content: bytes) -> str | None:
    """DOCX, XLSX or ODT from the package's manifest; None for any other ZIP (or a broken one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            names = set(package.namelist())
            if "mimetype" in names and package.read("mimetype").strip() == ODT.encode():
                return ODT
            if "[Content_Types].xml" in names:
                manifest = package.read("[Content_Types].xml")
                if b"wordprocessingml.document.main+xml" in manifest and "word/document.xml" in names:
                    return DOCX
                if b"spreadsheetml.sheet.main+xml" in manifest and "xl/workbook.xml" in names:
                    return XLSX
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RuntimeError, NotImplementedError):
        return None
    return None


def _is_plain_text(content: bytes) -> bool:
    """UTF-8 text without NUL or other control characters (tabs and line breaks allowed) and without markup."""
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any((ord(c) < 32 and c not in "\t\n\r\f") or ord(c) == 127 for c in decoded):
        return False
    lowered = content[:4096].lower()
    return not any(tag in lowered for tag in _MARKUP)


def media_type_of(content: bytes) -> str | None:
    """The allowed media type of a file's content, or None when it is not an allowed kind of file."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    if content and _is_plain_text(content.removeprefix(b"\xef\xbb\xbf")):
        return TEXT
    return None
