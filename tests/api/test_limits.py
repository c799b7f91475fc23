"""Finding 8 of issue 11 (the API's part): bodies over TELECARE_API_MAX_BODY_BYTES are refused unread.

Through a real `telecare api` process and raw sockets, so the client controls what it sends and when.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import orjson

from tests.conftest import ADMIN_TOKEN

LIMIT = 1_048_576  # the default
PATH = "/v1/organisations"


def _head(url: str, *lines: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    head = [
        f"POST {PATH} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "Content-Type: application/json",
        *lines,
    ]
    return parts.hostname, parts.port, ("\r\n".join(head) + "\r\n\r\n").encode()


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_sent(
    api_process: str,
) -> None:
    host, port, head = _head(api_process, f"Content-Length: {20 * LIMIT}")
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head)  # and not one byte of the body: the answer must not wait for it
        await writer.drain()
        status, headers, body = await asyncio.wait_for(_response(reader), timeout=60)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert orjson.loads(body)["detail"] == f"the request body is larger than {LIMIT} bytes"


async def _chunked(url: str, payload: bytes, *, piece: int = 65536) -> tuple[int, bytes, int]:
    """Send payload in chunks until the server answers; the status, body and bytes sent by then."""
    host, port, head = _head(url, "Transfer-Encoding: chunked")
    reader, writer = await asyncio.open_connection(host, port)
    answer = asyncio.ensure_future(_response(reader))
    sent = 0
    try:
        writer.write(head)
        while sent < len(payload) and not answer.done():
            chunk = payload[sent : sent + piece]
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            # Until the chunk is taken or the server answers (it may stop reading once it has).
            drained = asyncio.ensure_future(writer.drain())
            await asyncio.wait({drained, answer}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            if not drained.done():
                drained.cancel()
                break
            if drained.exception() is not None:
                break  # the server answered and closed: the rest is not read
            sent += len(chunk)
        if not answer.done():
            with contextlib.suppress(ConnectionError):
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        status, _, body = await asyncio.wait_for(answer, timeout=60)
    finally:
        answer.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return status, body, sent


async def test_a_chunked_body_is_cut_off_at_the_cap(api_process: str) -> None:
    payload = orjson.dumps({"name": "x" * (20 * LIMIT)})
    status, body, sent = await _chunked(api_process, payload)
    assert status == 413, body[:200]
    assert orjson.loads(body)["detail"] == f"the request body is larger than {LIMIT} bytes"
    assert sent < len(payload)


async def test_a_chunked_body_within_the_cap_is_served(api_process: str) -> None:
    status, body, _ = await _chunked(api_process, orjson.dumps({"name": "Chunked Care"}), piece=5)
    assert status == 201, body
    assert orjson.loads(body)["name"] == "Chunked Care"
