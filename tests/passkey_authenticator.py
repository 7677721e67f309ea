"""A software WebAuthn authenticator for the server-side passkey tests: a real P-256 key (cryptography),
real CBOR (cbor2), real signatures; it answers navigator.credentials.create/get as a browser would send
them to the server (the JSON of web/passkeys.js). Knobs let a test answer wrongly on purpose."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, *, rp_id="localhost", origin="http://localhost:8000", user_verified=True):
        self.rp_id, self.origin, self.user_verified = rp_id, origin, user_verified
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        if self.user_verified:
            flags |= UV
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags | UP]) + struct.pack(">I", self.sign_count) + attested

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def create(self, options: dict, *, origin: str | None = None) -> str:
        """The registration answer to ``options`` (the server's JSON for navigator.credentials.create)."""
        self.user_handle = unb64(options["user"]["id"])
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = self._auth_data(AT, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        response = {
            "clientDataJSON": b64(client_data),
            "attestationObject": b64(attestation),
            "transports": ["internal"],
        }
        return self._credential(response)

    def get(self, challenge: str, *, origin: str | None = None, count: bool = True) -> str:
        """An assertion over ``challenge`` (base64url), the sign counter one up unless ``count`` is False."""
        if count:
            self.sign_count += 1
        auth_data = self._auth_data(0)
        client_data = self._client_data("webauthn.get", challenge, origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64(client_data),
            "authenticatorData": b64(auth_data),
            "signature": b64(signature),
            "userHandle": b64(self.user_handle) if self.user_handle else None,
        }
        return self._credential(response)

    def _credential(self, response: dict) -> str:
        cid = b64(self.credential_id)
        return json.dumps(
            {"id": cid, "rawId": cid, "type": "public-key", "response": response, "clientExtensionResults": {}}
        )
