"""Encryption in transit for `make stack` (ADR 0033): a local certificate authority and one server
certificate for 127.0.0.1, ::1 and localhost, made with Debian's openssl under var/stack/tls/ on
the first start and reused after (a browser or a client told to trust the CA keeps trusting it).

nginx serves HTTPS with it, PostgreSQL (under Patroni, behind HAProxy in TCP mode, which passes
TLS through) and Redis accept TLS with it, and the app verifies each against the CA:
``sslmode=verify-full`` (the host name 127.0.0.1 must be in the certificate) and ``rediss://`` with
``ssl_cert_reqs=required``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .core import STACK, StackError

CA_DAYS = 3650
SERVER_DAYS = 825  # the longest validity Apple's and Chrome's trust stores accept for a server
SAN = "IP:127.0.0.1,IP:::1,DNS:localhost"
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Tls:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def cert(self) -> Path:
        return self.directory / "server.crt"

    @property
    def key(self) -> Path:
        return self.directory / "server.key"

    def postgres_query(self) -> str:
        """What a PostgreSQL URL adds to verify the server against the CA and by its name."""
        return f"sslmode=verify-full&sslrootcert={quote(str(self.ca))}"

    def redis_url(self, port: int, db: int) -> str:
        """A ``rediss://`` URL that redis-py, kombu and Celery verify against the CA."""
        return (
            f"rediss://127.0.0.1:{port}/{db}?ssl_cert_reqs=required"
            f"&ssl_ca_certs={quote(str(self.ca))}"
        )

    def redis_args(self, tls_port: int) -> list[str]:
        """redis-server's options for a TLS port beside its plain one (clients are not asked
        for certificates: the stack authenticates no one, it encrypts)."""
        return ["--tls-port", str(tls_port), "--tls-cert-file", str(self.cert),
                "--tls-key-file", str(self.key), "--tls-ca-cert-file", str(self.ca),
                "--tls-auth-clients", "no"]  # fmt: skip

    def pem(self, directory: Path) -> Path:
        """The certificate and its key in one file in ``directory``, as HAProxy's ``crt`` wants
        them (mode 0600)."""
        path = directory / "server.pem"
        path.touch(mode=0o600)
        path.write_bytes(self.cert.read_bytes() + self.key.read_bytes())
        return path

    def copy_for(self, directory: Path, owner: str) -> Tls:
        """The server's certificate and key in ``directory``, owned by ``owner`` and readable by
        it only (PostgreSQL refuses a key that others may read; it cannot enter var/)."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory]
        for source in (self.ca, self.cert, self.key):
            target = directory / source.name
            shutil.copyfile(source, target)
            target.chmod(0o600)
            paths.append(target)
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, owner, owner)
        return Tls(directory)


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _valid(tls: Tls) -> bool:
    """The files exist, the server certificate is signed by the CA, and neither expires within a
    day."""
    if not all(p.exists() for p in (tls.ca, tls.cert, tls.key, tls.directory / "ca.key")):
        return False
    checks = [
        ["openssl", "verify", "-CAfile", str(tls.ca), str(tls.cert)],
        ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(tls.cert)],
        ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(tls.ca)],
    ]
    return all(subprocess.run(c, capture_output=True, check=False).returncode == 0 for c in checks)


def ensure(directory: Path | None = None) -> Tls:
    """The CA and server certificate under ``directory`` (var/stack/tls/), made if missing,
    unsigned by the CA there, or within a day of expiry; reused otherwise."""
    tls = Tls(directory or STACK / "tls")
    if _valid(tls):
        return tls
    d = tls.directory
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    ca_key, csr, ext = d / "ca.key", d / "server.csr", d / "server.ext"
    _openssl("req", "-x509", *_EC, "-keyout", str(ca_key), "-out", str(tls.ca),
             "-days", str(CA_DAYS), "-subj", "/CN=Conduit make stack local CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    _openssl("req", "-new", *_EC, "-keyout", str(tls.key), "-out", str(csr),
             "-subj", "/CN=localhost")  # fmt: skip
    ext.write_text(
        f"subjectAltName={SAN}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(tls.ca), "-CAkey", str(ca_key),
             "-set_serial", f"0x{secrets.token_hex(16)}",
             "-days", str(SERVER_DAYS), "-extfile", str(ext), "-out", str(tls.cert))  # fmt: skip
    for path in (ca_key, tls.key):
        path.chmod(0o600)
    csr.unlink()
    ext.unlink()
    if not _valid(tls):
        raise StackError(f"the certificates made under {d} do not verify")
    return tls
