"""Independent verification: only jwcrypto and the published documents."""

from __future__ import annotations

import base64
import gzip
import json

from jwcrypto import jwk, jws


def published_keys(client) -> dict[str, jwk.JWK]:
    response = client.get("/credentials/jwks.json")
    assert response.status_code == 200
    return {key["kid"]: jwk.JWK(**key) for key in response.json()["keys"]}


def verify_independently(client, token: str) -> dict:
    """Verify the compact JWS against the published JWKS; return the claims."""
    header_b64 = token.split(".")[0]
    header = json.loads(
        base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4))
    )
    assert header["alg"] == "ES256"
    kid = header["kid"].rsplit("/", 1)[-1]
    keys = published_keys(client)
    assert kid in keys, "signed with an unpublished key"
    key_doc = client.get(header["kid"].removeprefix("https://academy.example.cn"))
    assert key_doc.status_code == 200 and key_doc.json()["kid"] == kid
    parsed = jws.JWS()
    parsed.deserialize(token)
    parsed.verify(keys[kid], alg="ES256")  # raises InvalidJWSSignature
    return json.loads(parsed.payload)


def status_bit(client, entry: dict) -> int:
    url = entry["statusListCredential"].removeprefix("https://academy.example.cn")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    claims = verify_independently(client, response.content.decode())
    subject = claims["vc"]["credentialSubject"]
    assert subject["statusPurpose"] == entry["statusPurpose"]
    encoded = subject["encodedList"]
    assert encoded.startswith("u")
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    bits = gzip.decompress(raw)
    assert len(bits) * 8 >= 131072
    index = int(entry["statusListIndex"])
    return (bits[index // 8] >> (7 - index % 8)) & 1
