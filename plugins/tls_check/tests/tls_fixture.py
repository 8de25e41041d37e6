#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""TLS servers on 127.0.0.1 for tls_check's tests, each a case: a good certificate, an expired
one, one for another name, a self-signed one, one that expires in five days; and STARTTLS
servers speaking SMTP (with and without STARTTLS offered), IMAP, POP3, FTP, XMPP and PostgreSQL's
SSLRequest (accepting it, and refusing it), and one that never answers. Certificates are made
here with python3-cryptography, under a CA of their own. Prints one JSON line, {"ca_file": ...,
"ports": {case: port}}, then serves until killed. Usage: tls_fixture.py DIR"""
import datetime
import json
import os
import socket
import socketserver
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DIR = sys.argv[1]
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(cn, sans, issuer_key, issuer_name, not_before, not_after, ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer_name or name(cn))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert


def write(stem, key, cert):
    with open(os.path.join(DIR, stem + ".pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(DIR, stem + ".key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(DIR, stem + ".pem"), os.path.join(DIR, stem + ".key"))
    return ctx


LOCAL = [x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
ca_key, ca_cert = certificate("Vigil test CA", None, None, None, NOW - DAY, NOW + 365 * DAY, ca=True)
with open(os.path.join(DIR, "ca.pem"), "wb") as f:
    f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
CA = name("Vigil test CA")
contexts = {
    "good": write("good", *certificate("localhost", LOCAL, ca_key, CA, NOW - DAY, NOW + 90 * DAY)),
    "expired": write("expired", *certificate("localhost", LOCAL, ca_key, CA, NOW - 30 * DAY, NOW - DAY)),
    "wronghost": write("wronghost", *certificate("other.example", [x509.DNSName("other.example")], ca_key, CA,
                                                  NOW - DAY, NOW + 90 * DAY)),
    "selfsigned": write("selfsigned", *certificate("localhost", LOCAL, None, None, NOW - DAY, NOW + 90 * DAY)),
    "expiring": write("expiring", *certificate("localhost", LOCAL, ca_key, CA, NOW - DAY, NOW + 5 * DAY)),
}


def lines(f):
    return f.readline()


def dialogue(kind, sock):
    """The server's side of the plain-text part; True when the handshake may follow."""
    f = sock.makefile("rb")
    if kind in ("smtp", "smtp-plain"):
        sock.sendall(b"220-mail.test ESMTP\r\n220 ready\r\n")
        f.readline()  # EHLO
        offer = b"250-STARTTLS\r\n" if kind == "smtp" else b""
        sock.sendall(b"250-mail.test\r\n250-PIPELINING\r\n" + offer + b"250 8BITMIME\r\n")
        if kind == "smtp-plain":
            f.readline()
            return False
        f.readline()  # STARTTLS
        sock.sendall(b"220 go ahead\r\n")
    elif kind == "imap":
        sock.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
        f.readline()
        sock.sendall(b"* a note first\r\na1 OK begin TLS\r\n")
    elif kind == "pop3":
        sock.sendall(b"+OK POP3 ready\r\n")
        f.readline()
        sock.sendall(b"+OK begin TLS\r\n")
    elif kind == "ftp":
        sock.sendall(b"220 FTP ready\r\n")
        f.readline()
        sock.sendall(b"234 AUTH TLS ok\r\n")
    elif kind == "xmpp":
        sock.recv(4096)  # the stream header
        sock.sendall(b"<?xml version='1.0'?><stream:stream from='localhost' id='1' version='1.0' "
                     b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
                     b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>")
        sock.recv(4096)  # <starttls/>
        sock.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    elif kind in ("postgres", "postgres-no"):
        if sock.recv(8) != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
            return False
        sock.sendall(b"S" if kind == "postgres" else b"N")
        return kind == "postgres"
    return True


flaky_connections = __import__("itertools").count()


def handler(kind):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.settimeout(10)
            try:
                if kind == "flaky" and next(flaky_connections) == 0:
                    return  # a server restarting: the first connection closes before any handshake
                if kind == "silent":
                    while sock.recv(4096):  # takes what comes, answers nothing, until the client gives up
                        pass
                    return
                tls = kind in contexts
                if not tls and not dialogue(kind, sock):
                    return
                ctx = contexts.get(kind, contexts["good"])
                with ctx.wrap_socket(sock, server_side=True) as s:
                    s.recv(1)  # until the client closes
            except (OSError, ssl.SSLError):
                pass
    return Handler


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


ports = {}
for kind in list(contexts) + ["smtp", "smtp-plain", "imap", "pop3", "ftp", "xmpp", "postgres", "postgres-no",
                              "silent", "flaky"]:
    server = Server(("127.0.0.1", 0), handler(kind))
    ports[kind] = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"ca_file": os.path.join(DIR, "ca.pem"), "ports": ports}), flush=True)
threading.Event().wait()
