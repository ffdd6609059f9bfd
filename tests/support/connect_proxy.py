#!/usr/bin/env python3
"""tests/support/connect_proxy.py: a minimal HTTP forward proxy for the proxy
test (tests/e2e/transport_proxy.sh, issue 13): it tunnels CONNECT requests
to the host and port they name, and refuses anything else with 502, so a
client that sends a request in clear through it fails.

Usage: connect_proxy.py LOG_FILE   (the port it listens on, on 127.0.0.1, is
the first line of stdout). The environment variable PROXY_WATCH names a
string (the test's token) to look for in everything the proxy can read.

For every connection it appends one JSON line to LOG_FILE when it ends:
  {"request": "CONNECT localhost:443 HTTP/1.1", "headers": [lower-case
   names], "first_byte": 22, "watch_seen": false, "up": N, "down": N}
first_byte is the first byte the client sent inside the tunnel (22: a TLS
handshake record); watch_seen whether PROXY_WATCH appeared anywhere in the
bytes it carried or read, either way (inside TLS it cannot). SIGTERM stops it.
"""
import asyncio
import json
import os
import signal
import sys

WATCH = os.environ.get("PROXY_WATCH", "").encode()


class Seen:
    """Looks for WATCH across chunk boundaries."""

    def __init__(self):
        self.tail = b""
        self.found = False

    def feed(self, data):
        if WATCH and not self.found:
            buf = self.tail + data
            self.found = WATCH in buf
            self.tail = buf[-(len(WATCH) - 1):] if len(WATCH) > 1 else b""


async def pump(reader, writer, seen, counts, key, first=None):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if first is not None and first.get("first_byte") is None:
                first["first_byte"] = data[0]
            seen.feed(data)
            counts[key] += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass


async def handle(reader, writer, log):
    entry = {"request": None, "headers": [], "first_byte": None,
             "watch_seen": False, "up": 0, "down": 0}
    up_seen, down_seen = Seen(), Seen()
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    up_seen.feed(head)
    lines = head.split(b"\r\n")
    entry["request"] = lines[0].decode("latin-1")
    entry["headers"] = [h.split(b":", 1)[0].decode("latin-1").lower()
                        for h in lines[1:] if h]
    parts = entry["request"].split()
    if len(parts) != 3 or parts[0] != "CONNECT":
        writer.write(b"HTTP/1.1 502 Only CONNECT here\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        writer.close()
    else:
        host, _, port = parts[1].rpartition(":")
        try:
            ur, uw = await asyncio.open_connection(host.strip("[]"), int(port))
        except (OSError, ValueError):
            writer.write(b"HTTP/1.1 502 Cannot reach the target\r\n\r\n")
            await writer.drain()
            writer.close()
        else:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            counts = {"up": 0, "down": 0}
            await asyncio.gather(
                pump(reader, uw, up_seen, counts, "up", entry),
                pump(ur, writer, down_seen, counts, "down"))
            entry["up"], entry["down"] = counts["up"], counts["down"]
    entry["watch_seen"] = up_seen.found or down_seen.found
    log.write(json.dumps(entry) + "\n")
    log.flush()


async def main():
    log = open(sys.argv[1], "a", encoding="utf-8")
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, log), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop
    log.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: connect_proxy.py LOG_FILE")
    asyncio.run(main())
