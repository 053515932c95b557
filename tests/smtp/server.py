"""A real SMTP server for memberkey's tests: aiosmtpd with STARTTLS required and AUTH
(PLAIN and LOGIN) allowed only after it, with a certificate from a throwaway CA (trustme).

    server.py DIR USER PASSWORD

Listens on 127.0.0.1, on a port the system picks, and prints one line when ready:
`READY <port> <ca.pem>`. Each accepted message is written to DIR as <n>.eml. Recipients
whose local part starts with `tempfail` get 451 (try again later), with `bounce` 550 (no
such user), with `relay` 554 "Relay access denied". It runs until stdin closes, so it ends
with the test that started it.
"""

import asyncio
import logging
import os
import ssl
import sys
import threading

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox busy, try again later"
        if local.startswith("bounce"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        if local.startswith("relay"):
            return "554 5.7.1 <%s>: Relay access denied" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.directory, "%06d.eml" % n)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(tmp, path)
        return "250 2.0.0 Ok: queued as T%06d" % n


def main():
    # aiosmtpd logs a warning about its own use of a deprecated attribute at every sign-in.
    logging.disable(logging.WARNING)
    directory, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(directory, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path = os.path.join(directory, "..", "smtp-ca.pem")
    ca_path = os.path.abspath(ca_path)
    ca.cert_pem.write_to_path(ca_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    handler = Handler(directory)

    def protocol():
        return SMTP(
            handler,
            hostname="memberkey-test-smtp",
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=True,
        )

    async def serve():
        loop = asyncio.get_running_loop()
        # Port 0: the system picks a free port, and the server says which.
        server = await loop.create_server(protocol, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print("READY %d %s" % (port, ca_path), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
