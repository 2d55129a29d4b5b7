"""The format of API keys: `tg_live_` + 32 random bytes (URL-safe base64), looked up by prefix, stored hashed."""

import hashlib

API_KEY_PREFIX = "tg_live_"
# Characters of the secret part shown (and indexed) for lookup: enough to be unique in practice, far too few
# to help guess the rest.
API_KEY_LOOKUP_CHARS = 8
API_KEY_SECRET_BYTES = 32


def api_key_prefix(secret: str) -> str:
    return secret[: len(API_KEY_PREFIX) + API_KEY_LOOKUP_CHARS]


def api_key_hash(secret: str) -> str:
    """SHA-256: the key has 256 bits of entropy, so a slow password hash would add cost and no safety."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(secret: str) -> bool:
    return secret.startswith(API_KEY_PREFIX) and len(secret) >= len(API_KEY_PREFIX) + 40
