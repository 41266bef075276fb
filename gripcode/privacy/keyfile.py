"""The key file: everything that names a real person lives here, encrypted with a passphrase, never in a database.

Format: a JSON envelope (magic, KDF parameters, salt, nonce) and the AES-256-GCM ciphertext of the
zlib-compressed JSON state. The key comes from the passphrase by scrypt; the envelope's header is the
authenticated associated data, so a changed parameter, a wrong passphrase or a damaged byte all fail the tag.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

from gripcode.errors import GripcodeError

MAGIC = "gripcode-pseudonym-key"
FORMAT_VERSION = 1
PASSPHRASE_ENV = "GRIPCODE_KEY_PASSPHRASE"
# scrypt with n=2**17, r=8, p=1 (128 MiB, under a second): OWASP's minimum. The cost is what slows someone who
# has the file and guesses passphrases offline. The parameters are in each file's header, so files written with
# other costs (2**15 before) still open; they are written with these the next time they change.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MIN_PASSPHRASE = 8


class KeyFileError(GripcodeError):
    """The key file cannot be read, decrypted or written."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("not base64 text")
    return base64.b64decode(value.encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _header(envelope: dict[str, Any]) -> bytes:
    fields = {k: envelope[k] for k in ("magic", "version", "kdf", "n", "r", "p", "salt", "nonce")}
    return json.dumps(fields, sort_keys=True).encode("ascii")


def check_passphrase(passphrase: str | None) -> str:
    if not passphrase:
        raise KeyFileError(f"no passphrase: set {PASSPHRASE_ENV} or type it when asked")
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase is too short; use at least {MIN_PASSPHRASE} characters")
    return passphrase


def encrypt_state(state: dict[str, Any], passphrase: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    envelope: dict[str, Any] = {"magic": MAGIC, "version": FORMAT_VERSION, "kdf": "scrypt", "n": SCRYPT_N,
                                "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt), "nonce": _b64(nonce)}
    plain = zlib.compress(json.dumps(state, ensure_ascii=False, sort_keys=True).encode("utf-8"), 6)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    envelope["ciphertext"] = _b64(AESGCM(key).encrypt(nonce, plain, _header(envelope)))
    return (json.dumps(envelope, indent=1) + "\n").encode("ascii")


def decrypt_state(data: bytes, passphrase: str, where: str = "the key file") -> dict[str, Any]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    check_passphrase(passphrase)
    try:
        envelope = json.loads(data.decode("ascii"))
        if not isinstance(envelope, dict) or envelope.get("magic") != MAGIC:
            raise ValueError("not a gripcode key file")
        if envelope.get("version") != FORMAT_VERSION or envelope.get("kdf") != "scrypt":
            raise ValueError(f"unknown key file version {envelope.get('version')!r}")
        n, r, p = (int(envelope[k]) for k in ("n", "r", "p"))
        if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("unusable key-derivation parameters")
        salt, nonce, ciphertext = (_unb64(envelope[k]) for k in ("salt", "nonce", "ciphertext"))
        header = _header(envelope)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{where} is not a gripcode key file or is damaged ({exc})") from None
    try:
        plain = AESGCM(_derive(passphrase, salt, n, r, p)).decrypt(nonce, ciphertext, header)
    except (InvalidTag, ValueError):
        raise KeyFileError(f"{where} cannot be opened: wrong passphrase, or the file is damaged") from None
    try:
        state = json.loads(zlib.decompress(plain).decode("utf-8"))
    except (zlib.error, ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{where} is damaged: its contents cannot be read") from None
    if not isinstance(state, dict):
        raise KeyFileError(f"{where} is damaged: its contents cannot be read")
    return state


def read_key(path: Path, passphrase: str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"there is no key file {path}; `gripcode pseudonymise propose --key {path}` makes one") \
            from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.strerror}") from None
    return decrypt_state(data, passphrase, where=f"the key file {path}")


def write_key(path: Path, state: dict[str, Any], passphrase: str) -> None:
    """Write the whole file beside its place and move it in, so a failure leaves the old key whole."""
    path = Path(path)
    data = encrypt_state(state, passphrase)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise KeyFileError(f"cannot write the key file {path}: {exc.strerror}") from None


def read_text(path: Path, what: str, error: type[GripcodeError]) -> str:
    """A UTF-8 text file the researcher wrote (a byte-order mark allowed); ``error`` names it as ``what``."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"there is no {what} {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {path if what == 'file' else f'the {what} {path}'}: {exc}") from None


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (mode 0600 from the start, also when it existed before)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
