"""The video the mock serves for a `video/mp4` file value is one a player accepts."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

import sora_mock

SAMPLE = Path(sora_mock.__file__).parent / "data" / "sample.mp4"


def test_sample_video_is_small_and_streams_from_its_start() -> None:
    data = SAMPLE.read_bytes()
    assert len(data) < 50_000
    # ISO base media: `ftyp` first, then `moov` before any `mdat` (faststart), so a player
    # can start before the whole file has arrived.
    assert data[4:8] == b"ftyp"
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_sample_video_decodes_to_every_frame_it_declares() -> None:
    with av.open(str(SAMPLE)) as container:
        assert container.format.name.startswith("mov,mp4")
        assert not container.streams.audio
        (stream,) = container.streams.video
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (160, 90)
        assert stream.average_rate == 12
        assert stream.frames == 24
        assert stream.duration is not None
        assert stream.time_base is not None
        assert stream.duration * stream.time_base == 2
        frames = list(container.decode(stream))
    assert len(frames) == 24
    assert all((frame.width, frame.height) == (160, 90) for frame in frames)
    assert [frame.time for frame in frames] == pytest.approx([i / 12 for i in range(24)])
