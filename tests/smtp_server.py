"""A real SMTP server for tests: aiosmtpd on a free local port, keeping what it accepts.

Use :func:`running` from a fixture in the test module::

    @pytest.fixture
    def smtp(settings):
        with smtp_server.running(settings) as server:
            yield server

It points Django's SMTP backend at the server and drops the digest's cached SMTP
connection before and after, so no test sends over another test's connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Keeps each accepted message. Can refuse the first ``refuse_first`` messages with a
    temporary error (451), and hold the first message in DATA for up to ``hold_first``
    seconds (``holding`` is set meanwhile) and then refuse it: a message that was being
    sent when the client died is not delivered."""

    def __init__(
        self, *, refuse_first: int = 0, hold_first: float = 0.0, unknown: tuple[str, ...] = ()
    ):
        self.refuse_first = refuse_first
        # Recipients refused for good at RCPT TO (550: no such mailbox).
        self.unknown = {address.lower() for address in unknown}
        self.hold_first = hold_first
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.peers: list[tuple] = []  # the client address of each accepted message
        self.recipients: list[list[str]] = []
        self.data_commands = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self._changed = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.lower() in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._changed:
            self.data_commands += 1
            number = self.data_commands
        if number <= self.refuse_first:
            return "451 4.3.0 Try again later"
        if number == 1 and self.hold_first:
            self.holding.set()
            deadline = time.monotonic() + self.hold_first
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Held, not delivered"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(message)
            self.raw.append(envelope.content)
            self.peers.append(session.peer)
            self.recipients.append(list(envelope.rcpt_tos))
            self._changed.notify_all()
        return "250 2.0.0 Accepted"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages were accepted; return them all."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


class SMTPServer:
    def __init__(self, port: int | None = None, **handler_options):
        self.port = port or free_port()
        self.handler = RecordingHandler(**handler_options)
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.messages)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        return self.handler.wait_for(count, timeout)

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname=HOST, port=self.port, ready_timeout=5)
        self._controller.start()

    def stop(self) -> None:
        self.handler.release.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        """Stop and start again on the same port: open client connections are dropped."""
        self.stop()
        self.handler.release.clear()
        self.start()


@contextlib.contextmanager
def running(settings, *, start: bool = True, **handler_options) -> Iterator[SMTPServer]:
    """An SMTP server (started unless ``start=False``) that Django's SMTP backend uses."""
    from followups.mail import drop_cached_connection

    server = SMTPServer(**handler_options)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    drop_cached_connection()
    if start:
        server.start()
    try:
        yield server
    finally:
        drop_cached_connection()
        server.stop()


def body(message: EmailMessage, subtype: str) -> str:
    """The text of a message's ``text/<subtype>`` part."""
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    assert part.get_content_type() == f"text/{subtype}"
    return part.get_content()
