#!/usr/bin/python3
"""fault_server: misbehaving HTTPS servers on loopback for pam_fac's fault tests.

Python 3 standard library only. One process opens one listener per
behaviour below (each on its own free port of 127.0.0.1), prints exactly one
line "PORTS name=port name=port ..." on stdout, and serves until SIGTERM or
SIGINT, on which it exits at once (status 0), whatever is still open.

Every event is appended to --log as one line "<listener> <event> [detail]",
so a test can check what reached a server (e.g. that a redirect was not
followed, or that a server behind a bad certificate saw no request):
    accept                a TCP connection was accepted
    hello <n>             (tls_stall) n bytes of ClientHello read
    handshake             a TLS handshake completed
    request <METHOD> <path>   a whole HTTP request was read

Listeners (certificates from tests/sim/make_certs.sh, in --certs):
  backlog       listens, never accepts: TCP completes in the kernel's
                backlog, then nothing
  silent        accepts, then never reads nor writes
  tls_stall     accepts, reads the ClientHello, never answers it
  plain_http    plain HTTP: answers anything (a ClientHello too) with a 400
  trickle       TLS; answers 200 with Content-Length 3600 and sends the
                body one byte a second
  trickle_head  TLS; sends the status line and headers one byte a second
  midclose_status   TLS; sends "HTTP/1.1 20", then closes
  midclose_line TLS; sends the status line "HTTP/1.1 200 OK" only, then closes
  midclose      TLS; sends the status line and half a header, then closes
  midclose_length   TLS; status line and "Content-Length: 10", no blank
                line, then closes
  midclose_body TLS; a whole head announcing 10 bytes, 3 of them, then closes
  huge          TLS; 200 with a 10 MB body (Content-Length)
  huge_chunked  TLS; 200 with a 10 MB body (chunked, no length)
  huge_401      TLS; 401 with a 10 MB body
  ok            TLS (server.pem); answers 200, empty body, to any request
  selfsigned    TLS with selfsigned.pem; otherwise like ok
  wronghost     TLS with wronghost.pem; otherwise like ok
  expired       TLS with expired.pem; otherwise like ok
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import threading
import time

TEN_MB = 10 * 1024 * 1024
LOG_LOCK = threading.Lock()
LOG_PATH = None
HOLD = []  # sockets held open on purpose (silent, tls_stall)


def log(name, event):
    with LOG_LOCK:
        with open(LOG_PATH, "a", encoding="utf-8") as f:
            f.write(f"{name} {event}\n")


def read_request(conn):
    """Reads one HTTP request (head and Content-Length body). Returns
    (method, path) or None when the client went away first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    length = 0
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-length":
            length = int(value.strip() or "0")
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        body += chunk
    return (parts[0], parts[1] if len(parts) > 1 else "")


# Answers cut short: the connection is closed right after these bytes.
MIDCLOSE = {
    "midclose_status": b"HTTP/1.1 20",
    "midclose_line": b"HTTP/1.1 200 OK\r\n",
    "midclose": b"HTTP/1.1 200 OK\r\nContent-Type: text/ht",
    "midclose_length": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
    "midclose_body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
}


def send_slowly(conn, data, pause):
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(pause)


def send_big(conn, head, chunked):
    conn.sendall(head)
    block = b"x" * 65536
    sent = 0
    while sent < TEN_MB:
        if chunked:
            conn.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
        else:
            conn.sendall(block)
        sent += len(block)
    if chunked:
        conn.sendall(b"0\r\n\r\n")


def serve_tls(name, conn, behaviour):
    method_path = read_request(conn)
    if method_path is None:
        return
    log(name, f"request {method_path[0]} {method_path[1]}")
    if behaviour == "trickle":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3600\r\n\r\n")
        send_slowly(conn, b"x" * 3600, 1.0)
    elif behaviour == "trickle_head":
        send_slowly(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Pad: " + b"p" * 3600 +
                    b"\r\nContent-Length: 0\r\n\r\n", 1.0)
    elif behaviour in MIDCLOSE:
        conn.sendall(MIDCLOSE[behaviour])
    elif behaviour == "huge":
        send_big(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % TEN_MB, False)
    elif behaviour == "huge_chunked":
        send_big(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n", True)
    elif behaviour == "huge_401":
        send_big(conn, b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % TEN_MB,
                 False)
    else:  # ok, selfsigned, wronghost, expired
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")


def handle(name, behaviour, conn, context):
    try:
        log(name, "accept")
        if behaviour == "silent":
            HOLD.append(conn)
            return
        if behaviour == "tls_stall":
            conn.settimeout(10)
            hello = conn.recv(16384)
            log(name, f"hello {len(hello)}")
            HOLD.append(conn)
            return
        if behaviour == "plain_http":
            conn.settimeout(10)
            conn.recv(16384)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            conn.close()
            return
        conn.settimeout(30)
        tls = context.wrap_socket(conn, server_side=True)
        log(name, "handshake")
        try:
            serve_tls(name, tls, behaviour)
        finally:
            tls.close()
    except (OSError, ValueError, ssl.SSLError):
        try:
            conn.close()
        except OSError:
            pass


def accept_loop(name, behaviour, sock, context):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(name, behaviour, conn, context), daemon=True).start()


def tls_context(certs, stem):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(certs, stem + ".pem"), os.path.join(certs, stem + ".key"))
    return context


LISTENERS = [
    # name, behaviour, certificate stem (None: no TLS)
    ("backlog", "backlog", None),
    ("silent", "silent", None),
    ("tls_stall", "tls_stall", None),
    ("plain_http", "plain_http", None),
    ("trickle", "trickle", "server"),
    ("trickle_head", "trickle_head", "server"),
    ("midclose_status", "midclose_status", "server"),
    ("midclose_line", "midclose_line", "server"),
    ("midclose", "midclose", "server"),
    ("midclose_length", "midclose_length", "server"),
    ("midclose_body", "midclose_body", "server"),
    ("huge", "huge", "server"),
    ("huge_chunked", "huge_chunked", "server"),
    ("huge_401", "huge_401", "server"),
    ("ok", "ok", "server"),
    ("selfsigned", "ok", "selfsigned"),
    ("wronghost", "ok", "wronghost"),
    ("expired", "ok", "expired"),
]


def main():
    global LOG_PATH
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--certs", required=True, help="directory made by tests/sim/make_certs.sh")
    parser.add_argument("--log", required=True, help="event log (appended)")
    args = parser.parse_args()
    LOG_PATH = args.log
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    ports = []
    for name, behaviour, stem in LISTENERS:
        context = tls_context(args.certs, stem) if stem else None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        if behaviour == "backlog":
            sock.listen(0)
            HOLD.append(sock)
        else:
            sock.listen(64)
            threading.Thread(target=accept_loop, args=(name, behaviour, sock, context), daemon=True).start()
        ports.append(f"{name}={sock.getsockname()[1]}")
    sys.stdout.write("PORTS " + " ".join(ports) + "\n")
    sys.stdout.flush()
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
