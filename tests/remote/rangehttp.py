"""A tiny HTTP server that serves one file with byte ranges (qemu's curl driver needs them).

Python's ``http.server`` answers a Range request with the whole file, which qemu's curl block
driver refuses; this handler answers ``HEAD`` and ``GET`` with ``Range: bytes=A-B`` (one range)
as ``206 Partial Content``, and everything else with an error. Test use only, on 127.0.0.1.

Every response closes its connection (``Connection: close``). Debian 12's qemu (7.2, libcurl
7.88) sometimes stops reading from a server that keeps connections alive: with two range
transfers in flight on reused connections, its curl driver (traced with ``-trace 'curl_*'``)
received both answers whole, yet the guest's read never completed: every connection idle, no
curl timer set, and the appliance waited until the deadline. Measured on this machine, the
same ``guestinspect facts`` over this server: 3 of 16 launches stalled with keep-alive, none
of 15 with ``Connection: close``. docs/cli.md tells users the same.
"""

from __future__ import annotations

import base64
import os
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_CHUNK = 1 << 20


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: qemu's curl driver opens several connections at once; the default backlog of 5 may
    #: drop one on a loaded machine, and a dropped connect costs curl its timeout.
    request_queue_size = 64


class RangeServer:
    """Serve ``path`` at ``http://127.0.0.1:PORT/NAME`` until :meth:`close`; with ``auth``
    (user, password), only to requests with that HTTP Basic authorization."""

    def __init__(self, path: Path, name: str, auth: tuple[str, str] | None = None) -> None:
        served, size = path, path.stat().st_size
        wanted = "Basic " + base64.b64encode(":".join(auth).encode()).decode() if auth else None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _headers(self, status: int, length: int, extra: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Connection", "close")
                self.close_connection = True
                self.send_header("Content-Length", str(length))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()

            def _target(self) -> bool:
                if wanted is not None and self.headers.get("Authorization") != wanted:
                    self._headers(HTTPStatus.UNAUTHORIZED, 0,
                                  {"WWW-Authenticate": 'Basic realm="disk"'})
                    return False
                if self.path != "/" + name:
                    self._headers(HTTPStatus.NOT_FOUND, 0, {})
                    return False
                return True

            def do_HEAD(self) -> None:  # noqa: N802
                if self._target():
                    self._headers(HTTPStatus.OK, size, {})

            def do_GET(self) -> None:  # noqa: N802
                if not self._target():
                    return
                m = _RANGE.fullmatch(self.headers.get("Range", ""))
                if m is None:
                    start, end, status, extra = 0, size - 1, HTTPStatus.OK, {}
                else:
                    start = int(m.group(1))
                    end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
                    if start > end:
                        self._headers(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 0,
                                      {"Content-Range": f"bytes */{size}"})
                        return
                    status = HTTPStatus.PARTIAL_CONTENT
                    extra = {"Content-Range": f"bytes {start}-{end}/{size}"}
                self._headers(status, end - start + 1, extra)
                with served.open("rb") as f:
                    f.seek(start)
                    left = end - start + 1
                    while left > 0:
                        data = f.read(min(left, _CHUNK))
                        if not data:
                            break
                        self.wfile.write(data)
                        left -= len(data)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/{name}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def main() -> None:
    """``python -m tests.remote.rangehttp FILE NAME``: serve FILE as /NAME and print the port
    (HTTP Basic authentication for ``$RANGEHTTP_AUTH``, ``user:password``, if set). The tests
    run it in a process of its own: libguestfs's calls hold Python's GIL, so a server thread of
    the process that launches the appliance could not answer qemu."""
    path, name = Path(sys.argv[1]), sys.argv[2]
    auth = os.environ.get("RANGEHTTP_AUTH")
    user, _, password = (auth or "").partition(":")
    server = RangeServer(path, name, (user, password) if auth else None)
    print(server.port, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        server.close()


if __name__ == "__main__":
    main()
