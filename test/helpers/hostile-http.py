#!/usr/bin/env python3
"""A hostile HTTP server on 127.0.0.1 for the input hostility tests.

usage: hostile-http.py MODE PORTFILE

Listens on a free port (written to PORTFILE), answers every request the
same way, and serves until killed:
  zeros   200 with a message media type and 10 GB of zeros (Content-Length)
  chunked 200, chunked, zeros without end
  slow    200 headers, then one byte a second without end
  stall   200 headers, then nothing
  nulhdr  401 with NUL bytes inside WWW-Authenticate and TI-Session
  hugehdr 200 with a 1 MiB header line
"""
import os
import socket
import sys
import threading
import time

MEDIA = b"application/vnd.ti.message+json"


def read_request(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None
        buf += d
        if len(buf) > 1 << 20:
            return None
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v.strip() or 0)
    while len(rest) < n:
        d = c.recv(65536)
        if not d:
            break
        rest += d
    return head


def serve(c, mode):
    try:
        if read_request(c) is None:
            return
        if mode == "zeros":
            total = 10 * 1000 ** 3
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + MEDIA +
                      b"\r\nContent-Length: %d\r\n\r\n" % total)
            block = b"\0" * (1 << 20)
            sent = 0
            while sent < total:
                c.sendall(block)
                sent += len(block)
        elif mode == "chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + MEDIA +
                      b"\r\nTransfer-Encoding: chunked\r\n\r\n")
            block = b"\0" * (1 << 20)
            chunk = b"%x\r\n" % len(block) + block + b"\r\n"
            while True:
                c.sendall(chunk)
        elif mode in ("slow", "stall"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + MEDIA +
                      b"\r\nContent-Length: 1000000\r\n\r\n")
            while True:
                time.sleep(1)
                if mode == "slow":
                    c.sendall(b"0")
        elif mode == "nulhdr":
            body = b"no\n"
            c.sendall(b"HTTP/1.1 401 Unauthorized\r\n"
                      b"WWW-Authenticate: TI-Attest nonce=\"AAAA\0AAAAAAAAAA"
                      b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\r\n"
                      b"TI-Session: abc\0def\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "hugehdr":
            c.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (1 << 20) +
                      b"\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        c.close()


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, mode), daemon=True).start()


if __name__ == "__main__":
    main()
