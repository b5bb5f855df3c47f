"""A set of incident (or transition) ids packed into one short string, 8 characters per member.

The account item names every service incident the correlated-failure guard counts or covers; as
dictionary keys of full ids they cost about 80 bytes each and reached DynamoDB's 400 KB near 2,000
services. A member is the 48-bit BLAKE2b digest of its id in URL-safe base64: two of 10,000 members
collide with a chance of about 2 in 10^7.
"""

from __future__ import annotations

import base64
import hashlib

WIDTH = 8


def digest(identifier: str) -> str:
    """The 8 characters an id is remembered by."""
    raw = hashlib.blake2b(identifier.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def members(packed: str) -> list[str]:
    return [packed[i : i + WIDTH] for i in range(0, len(packed), WIDTH)]


def has(packed: str, member: str) -> bool:
    at = packed.find(member)
    while at != -1:
        if at % WIDTH == 0:
            return True
        at = packed.find(member, at + 1)
    return False


def add(packed: str, member: str) -> str:
    return packed if has(packed, member) else packed + member


def remove(packed: str, member: str) -> str:
    return "".join(m for m in members(packed) if m != member)


def keep_last(packed: str, limit: int) -> str:
    """The `limit` members added last."""
    return packed[-limit * WIDTH :] if len(packed) > limit * WIDTH else packed
