"""The bytes of the files a completed task links to, by media type."""

from __future__ import annotations

from sora_mock.contract import sample_video
from sora_mock.engine.images import png_picture

#: The media types a spec's ``file`` values may have.
MEDIA_TYPES = ("image/png", "video/mp4")


def file_content(media_type: str, seed: str) -> bytes:
    """A real file of ``media_type``: a PNG drawn from ``seed``, or the shipped sample MP4."""
    if media_type == "image/png":
        return png_picture(seed)
    if media_type == "video/mp4":
        return sample_video()
    raise ValueError(f"no file content for {media_type}")
