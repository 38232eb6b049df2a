"""A throwaway PKI made with the real openssl CLI: a test CA, certificates it issues, CMS signatures.

Tests make every key and certificate they use, in a temporary directory; nothing is committed.
`openssl ca` is used (not `x509 -req`) because OpenSSL 3.0 sets arbitrary validity dates only
there, and expired certificates are part of what the tests need.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support import require

_CA_CONFIG = """\
[ca]
default_ca = test_ca
[test_ca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
[any_name]
commonName = supplied
organizationName = optional
"""

_KEY_OPTIONS = {
    "ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "ed25519": ["-algorithm", "ED25519"],
}


def require_openssl() -> str:
    path = shutil.which("openssl")
    require(path is not None, "the openssl CLI is not installed")
    assert path is not None
    return path


def openssl(*args: str | Path, stdin: bytes | None = None) -> bytes:
    run = subprocess.run(
        [require_openssl(), *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
    )
    if run.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} failed: {run.stderr.decode(errors='replace')}")
    return run.stdout


@dataclass(frozen=True)
class Identity:
    """A certificate and its private key, as files and as PEM bytes."""

    cert_path: Path
    key_path: Path

    @property
    def pem(self) -> bytes:
        return self.cert_path.read_bytes()

    @property
    def der(self) -> bytes:
        return openssl("x509", "-in", self.cert_path, "-outform", "DER")


class Pki:
    """Keys, a CA and certificates under `directory`; each name is used once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names = itertools.count()

    def _path(self, stem: str, suffix: str) -> Path:
        return self.directory / f"{stem}-{next(self._names)}{suffix}"

    def key(self, kind: str = "ec") -> Path:
        path = self._path(f"key-{kind}", ".pem")
        openssl("genpkey", *_KEY_OPTIONS[kind], "-out", path)
        return path

    def ca(self, name: str = "Test Manufacturer CA", kind: str = "ec", days: int = 30) -> Identity:
        key = self.key(kind)
        cert = self._path("ca", ".pem")
        openssl(
            "req", "-x509", "-new", "-key", key, "-subj", f"/CN={name}", "-days", str(days), "-out", cert,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        )  # fmt: skip
        return Identity(cert, key)

    def self_signed(self, name: str = "Test Signer", kind: str = "ec", key_usage: str = "digitalSignature") -> Identity:
        key = self.key(kind)
        cert = self._path("self", ".pem")
        openssl(
            "req", "-x509", "-new", "-key", key, "-subj", f"/CN={name}", "-days", "30", "-out", cert,
            "-addext", "basicConstraints=critical,CA:FALSE", "-addext", f"keyUsage=critical,{key_usage}",
        )  # fmt: skip
        return Identity(cert, key)

    def issue(
        self,
        ca: Identity,
        name: str = "Test Signer",
        *,
        kind: str = "ec",
        key_usage: str = "digitalSignature",
        start: str | None = None,
        end: str | None = None,
        dns_names: tuple[str, ...] = (),
    ) -> Identity:
        """A certificate `ca` issues; `start`/`end` as YYYYMMDDHHMMSSZ, default valid for 30 days;
        `dns_names` makes it a TLS server certificate for those names."""
        key = self.key(kind)
        request = self._path("request", ".csr")
        openssl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", request)
        state = self._path("ca-state", "")
        (state / "issued").mkdir(parents=True)
        (state / "index.txt").write_text("")
        (state / "serial").write_text(f"{next(self._names) + 4096:04X}\n")
        (state / "openssl.cnf").write_text(_CA_CONFIG.format(dir=state))
        alt_names = ",".join(f"DNS:{name}" for name in dns_names)
        (state / "leaf.ext").write_text(
            f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,{key_usage}\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            + (f"subjectAltName={alt_names}\nextendedKeyUsage=serverAuth\n" if dns_names else "")
        )
        dates = ["-startdate", start] if start else []
        dates += ["-enddate", end] if end else ["-days", "30"]
        cert = self._path("cert", ".pem")
        openssl(
            "ca", "-batch", "-notext", "-config", state / "openssl.cnf", "-cert", ca.cert_path,
            "-keyfile", ca.key_path, "-in", request, "-out", cert, "-extfile", state / "leaf.ext", *dates,
        )  # fmt: skip
        return Identity(cert, key)

    def sign(self, content: bytes, signer: Identity, *options: str) -> bytes:
        """`openssl cms -sign -binary -outform DER` over `content`, as RFC 8520 section 13 says."""
        source = self._path("content", ".json")
        source.write_bytes(content)
        return openssl(
            "cms", "-sign", "-binary", "-outform", "DER", "-in", source,
            "-signer", signer.cert_path, "-inkey", signer.key_path, *options,
        )  # fmt: skip
