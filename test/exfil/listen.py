#!/usr/bin/env python3
"""Loopback listeners for the exfiltration battery.

listen.py DIR: listens on TCP and UDP ports of 127.0.0.1, UDP port 53 when
allowed, a unix socket DIR/sock and an abstract unix socket, writes
"tcp=P udp=P abstract=NAME dns=0|1" to DIR/ready and appends one line per
connection or datagram to DIR/log. Anything in DIR/log means something
got out.
"""
import os
import selectors
import socket
import sys

d = sys.argv[1]
log = open(os.path.join(d, "log"), "a", buffering=1)
sel = selectors.DefaultSelector()


def listen(family, kind, addr):
    s = socket.socket(family, kind)
    s.bind(addr)
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    sel.register(s, selectors.EVENT_READ, kind)
    return s


tcp = listen(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
udp = listen(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0))
listen(socket.AF_UNIX, socket.SOCK_STREAM, os.path.join(d, "sock"))
abstract = "ti-exfil-%d" % os.getpid()
listen(socket.AF_UNIX, socket.SOCK_STREAM, "\0" + abstract)
dns = 1
try:
    listen(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 53))
except OSError:
    dns = 0
with open(os.path.join(d, "ready.tmp"), "w") as f:
    f.write("tcp=%d udp=%d abstract=%s dns=%d\n"
            % (tcp.getsockname()[1], udp.getsockname()[1], abstract, dns))
os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == socket.SOCK_STREAM:
            c, _ = s.accept()
            c.settimeout(1)
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            log.write("connection %r %r\n" % (s.getsockname(), data))
            c.close()
        else:
            data, peer = s.recvfrom(4096)
            log.write("datagram %r %r\n" % (s.getsockname(), data))
