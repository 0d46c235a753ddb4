"""Uploaded documents: type by content (PNG, JPEG, PDF), PDFs rendered to PNG pages."""

from __future__ import annotations

import base64
import io

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .common import ServiceError

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 20


def kind_of(data: bytes) -> str | None:
    """'png', 'jpeg' or 'pdf' by magic bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


async def read_upload(request: Request, field: str = "file") -> tuple[str, bytes, str]:
    """(filename, bytes, kind) of the multipart field; 400/415 JSON errors for bad input."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ServiceError(400, f"expected multipart/form-data with a '{field}' field")
    form = await request.form(max_part_size=MAX_BYTES)
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise ServiceError(400, f"missing file: send the document in the '{field}' field")
    data = await upload.read()
    if not data:
        raise ServiceError(400, "the uploaded file is empty")
    kind = kind_of(data)
    if kind is None:
        raise ServiceError(415, "unsupported document type: send PNG, JPEG or PDF",
                           filename=upload.filename or "")
    return upload.filename or f"upload.{kind}", data, kind


def page_images(data: bytes, kind: str) -> list[str]:
    """Base64 images to show the vision model: the image itself, or each rendered PDF page."""
    if kind != "pdf":
        return [base64.b64encode(data).decode()]
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ServiceError(422, f"unreadable PDF: {exc}") from exc
    if len(pdf) == 0:
        raise ServiceError(422, "the PDF has no pages")
    pages = []
    for i in range(min(len(pdf), MAX_PAGES)):
        bitmap = pdf[i].render(scale=2.0)
        buf = io.BytesIO()
        bitmap.to_pil().save(buf, "PNG")
        pages.append(base64.b64encode(buf.getvalue()).decode())
    return pages
