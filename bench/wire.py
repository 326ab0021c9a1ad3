"""A small HTTP/1.1 client over one keep-alive connection, for load that the client must not throttle.

httpx spends about 1.3 ms of CPU per request, which on this two-core machine is CPU the server under
test no longer has. This client sends requests it was handed as bytes and reads answers with a
``Content-Length`` or chunked bodies, and nothing else: no redirects, no cookie jar, no TLS. It is real
HTTP over a real socket, so the server does all the work it does for a browser."""

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from bench.pages import BenchError


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def form_post(path: str, host: str, fields: list[tuple[str, str]], headers: dict[str, str]) -> bytes:
    """The bytes of a form POST (``application/x-www-form-urlencoded``)."""
    body = urlencode(fields).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


class Connection:
    """One keep-alive connection to ``base_url``, reopened when the server has closed it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.netloc
        self._address = (parts.hostname, parts.port or 80)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> Answer:
        """Sends a whole request, returns the answer. A connection the server closed while idle is
        reopened and the request sent once more; any other failure raises."""
        fresh = self._writer is None
        if fresh:
            await self._open()
        try:
            self._writer.write(request)
            await self._writer.drain()
            return await self._read_answer()
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            await self.close()
            if fresh or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise BenchError(f"the connection failed: {error!r}") from error
            await self._open()
            self._writer.write(request)
            await self._writer.drain()
            return await self._read_answer()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(*self._address)

    async def _read_answer(self) -> Answer:
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunks()
        else:
            body = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, body)

    async def _read_chunks(self) -> bytes:
        chunks = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)
