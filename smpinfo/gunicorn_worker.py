"""gunicorn's threaded worker, with every request given REQUEST_READ_TIMEOUT seconds to arrive.

gunicorn 27's gthread worker hands a connection to a thread as soon as its first byte
arrives, and the thread then reads the request blocking, with no limit: a client sending
its headers a byte every two seconds holds a thread for as long as it likes, and eight
such clients leave `make run` (one process, 8 threads) answering nobody. No gunicorn
setting bounds that read.

This worker reads each request in the worker's event loop, as nginx does, and gives a
thread only a request that has arrived: the headers, and a body of up to
BUFFERED_BODY_LIMIT bytes. Slow or idle clients then cost a connection slot, not a
thread, and one that has not sent its request in full REQUEST_READ_TIMEOUT seconds
after it connected (or, on a kept-alive connection, after its next request began) is
answered 408 and closed. A body the loop does not wait for (a larger one, a chunked
one, one sent after `Expect: 100-continue`) is read by the thread as before, but it too
must have arrived by that deadline, so no request holds a thread waiting for its client
past it.

Closing a connection waits for the client too (gunicorn half-closes it and reads what the
client still sends, for up to 2 s, so that the answer is not cut off): gthread does that
blocking, in its only event loop, so that clients that never close their side stalled the
whole worker. Here the connection lingers in the loop instead.

With TLS, HTTP/2 or the uWSGI protocol configured in gunicorn the bytes on the socket
are not plain HTTP/1 requests, and the worker behaves exactly as gthread does; this site
serves HTTP/1 behind a proxy that terminates TLS.
"""

import contextlib
import math
import os
import selectors
import socket
import time
from collections import deque
from functools import partial

from gunicorn.http.errors import NoMoreData
from gunicorn.http.message import DEFAULT_MAX_HEADERFIELD_SIZE, MAX_HEADERS, MAX_REQUEST_LINE
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import ThreadWorker


def read_timeout_from_environment():
    """REQUEST_READ_TIMEOUT in seconds (10 when unset); a value that is not one stops gunicorn."""
    value = os.environ.get("REQUEST_READ_TIMEOUT", "").strip() or "10"
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"REQUEST_READ_TIMEOUT must be a number of seconds above 0, not {value!r}")
    return seconds


REQUEST_READ_TIMEOUT = read_timeout_from_environment()

# Bodies up to this size (every comment and admin form) are read before a thread is used.
BUFFERED_BODY_LIMIT = 1024 * 1024

READ_CHUNK = 64 * 1024
# What a connection's closing waits for the client to close too: as gunicorn's own close.
LINGER_SECONDS = 2
LINGER_MAX_BYTES = 64 * 1024

ARRIVED, WAITING, GONE = "arrived", "waiting", "gone"
REQUEST_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class RequestArrivedLate(NoMoreData):
    """The request had not arrived in full by its deadline.

    A NoMoreData, so gunicorn treats it as the client going away (the connection is closed
    without a traceback in the log), and an OSError, so Django reports a body it could not
    read as an UnreadablePostError.
    """

    def __str__(self):
        return f"the request had not arrived {REQUEST_READ_TIMEOUT:g} s after it began"


class DeadlineUnreader(SocketUnreader):
    """gunicorn's socket reader, refusing to wait for bytes past the request's deadline."""

    deadline = None

    def chunk(self, size_hint=None):
        if self.deadline is None:
            return super().chunk(size_hint)
        prior_timeout = self.sock.gettimeout()
        # Past the deadline the timeout is 0: bytes that did arrive in time are still read.
        self.sock.settimeout(max(self.deadline - time.monotonic(), 0))
        try:
            return super().chunk(size_hint)
        except (BlockingIOError, TimeoutError):
            raise RequestArrivedLate() from None
        finally:
            self.sock.settimeout(prior_timeout)


def header_block_limit(cfg):
    """The most bytes gunicorn's parser reads before it refuses a request's head as too large."""
    line = cfg.limit_request_line if cfg.limit_request_line > 0 else MAX_REQUEST_LINE
    fields = cfg.limit_request_fields if 0 < cfg.limit_request_fields <= MAX_HEADERS else MAX_HEADERS
    field_size = cfg.limit_request_field_size
    if field_size <= 0:
        field_size = DEFAULT_MAX_HEADERFIELD_SIZE
    return line + fields * (field_size + 2) + 4


def request_has_arrived(data, header_limit):
    """Whether `data` holds a request a thread can read without waiting for its client.

    That is: the whole head and, for a body of known length up to BUFFERED_BODY_LIMIT,
    the whole body. A head that gunicorn's parser will refuse (too large, or with a
    length that is not one number) counts as arrived, so that the parser answers it.
    """
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return len(data) > header_limit
    lengths = []
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"transfer-encoding", b"expect"):
            return True
        if name == b"content-length":
            lengths.append(value.strip())
    if not lengths:
        return True
    if len(lengths) > 1 or not lengths[0].isdigit():
        return True
    length = int(lengths[0])
    return length > BUFFERED_BODY_LIMIT or len(data) >= head_end + 4 + length


class RequestReadWorker(ThreadWorker):
    """The gthread worker, reading each request in its event loop, within a deadline (see module)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arriving_conns = deque()  # waiting for their request, oldest deadline first
        self.lingering_conns = deque()  # answered and half-closed, oldest first

    def init_process(self):
        cfg = self.cfg
        plain_http1 = cfg.protocol == "http" and "h2" not in cfg.http_protocols
        self.reads_requests_in_loop = plain_http1 and not cfg.is_ssl
        self.header_limit = header_block_limit(cfg)
        super().init_process()

    def enqueue_req(self, conn):
        """Every connection that waits for a request comes here: new, kept alive, pipelined."""
        if not self.reads_requests_in_loop:
            super().enqueue_req(conn)
            return
        conn.arrived = bytearray(conn.parser.unreader.take_buffered() if conn.parser else b"")
        conn.read_deadline = time.monotonic() + REQUEST_READ_TIMEOUT
        conn.sock.setblocking(False)
        # Most requests are on the socket already: read them now, without a turn of the loop.
        outcome = self.read_request_bytes(conn)
        if outcome == WAITING:
            self.arriving_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))
        else:
            self.end_arrival(conn, outcome)

    def on_request_bytes(self, conn, sock):
        outcome = self.read_request_bytes(conn)
        if outcome != WAITING:
            self.stop_waiting(conn)
            self.end_arrival(conn, outcome)

    def read_request_bytes(self, conn):
        """Read what the socket holds, and say whether the request has ARRIVED, is still
        WAITING for bytes, or is GONE (the client closed the connection)."""
        if request_has_arrived(conn.arrived, self.header_limit):
            return ARRIVED
        try:
            data = conn.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return WAITING
        except OSError:
            return GONE
        if not data:
            return GONE
        conn.arrived += data
        return ARRIVED if request_has_arrived(conn.arrived, self.header_limit) else WAITING

    def end_arrival(self, conn, outcome):
        if outcome == ARRIVED:
            conn.data_ready = True  # gthread's own wait for a first byte would be pointless now
            super().enqueue_req(conn)
        else:
            self.close_connection(conn)

    def stop_waiting(self, conn):
        self.poller.unregister(conn.sock)
        self.arriving_conns.remove(conn)

    def handle(self, conn):
        if self.reads_requests_in_loop:
            conn.sock.setblocking(True)
            conn.init()
            if not isinstance(conn.parser.unreader, DeadlineUnreader):
                conn.parser.unreader = DeadlineUnreader(conn.sock)
            conn.parser.unreader.unread(bytes(conn.arrived))
            conn.parser.unreader.deadline = conn.read_deadline
            conn.arrived = bytearray()
        return super().handle(conn)

    def finish_request(self, conn, fs):
        """gthread's, except that a connection the thread is done with lingers in the loop.

        gthread closes such a connection as RFC 9112 asks (FIN, then reading what the client
        still sends until it closes too, for up to 2 s), but it does so blocking, in the
        worker's only event loop: a client that never closes its side stopped the worker
        accepting anyone for 2 s, and twelve of them made a normal request wait 16 s.
        """
        if self.reads_requests_in_loop and (fs.cancelled() or (fs.exception() is None and not fs.result())):
            self.close_lingering(conn)
            return
        super().finish_request(conn, fs)

    def close_lingering(self, conn):
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close_connection(conn)
            return
        conn.sock.setblocking(False)
        conn.linger_deadline = time.monotonic() + LINGER_SECONDS
        conn.lingered = 0
        self.lingering_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_lingering_bytes, conn))

    def on_lingering_bytes(self, conn, sock):
        try:
            data = sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.lingered += len(data)
        if not data or conn.lingered > LINGER_MAX_BYTES:
            self.poller.unregister(sock)
            self.lingering_conns.remove(conn)
            self.close_connection(conn)

    def murder_pending(self):
        """gthread's expiry of connections that sent nothing, plus ours: a request that has not
        arrived by its deadline is answered 408, and a lingering connection is closed.

        gthread calls this once a second in its event loop, and while it stops.
        """
        super().murder_pending()
        now = time.monotonic()
        while self.arriving_conns and self.arriving_conns[0].read_deadline <= now:
            conn = self.arriving_conns.popleft()
            self.poller.unregister(conn.sock)
            if conn.arrived:
                with contextlib.suppress(OSError):
                    conn.sock.send(REQUEST_TIMEOUT_RESPONSE)
                self.close_lingering(conn)
            else:
                self.close_connection(conn)
        while self.lingering_conns and self.lingering_conns[0].linger_deadline <= now:
            conn = self.lingering_conns.popleft()
            self.poller.unregister(conn.sock)
            self.close_connection(conn)

    def close_connection(self, conn):
        self.nr_conns -= 1
        conn.close()
