"""Sign-in throttling: failures counted per user and per client address in Redis, with a window."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis

from hypervision import bus


@dataclass(frozen=True)
class LoginLimit:
    """At most ``per_user`` failures for one username and ``per_address`` for one address per window."""

    per_user: int
    per_address: int
    window_s: int


def _keys(username: str, address: str) -> tuple[str, str]:
    # Hashed so an arbitrary username cannot shape key names; the case is folded so "Bob" counts as "bob".
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return bus.login_failures_key("user", user), bus.login_failures_key("addr", address[:64])


async def retry_after(redis: Redis, limit: LoginLimit, username: str, address: str) -> int | None:
    """Seconds to wait when this user or this address is over its limit, else None."""
    user_key, addr_key = _keys(username, address)
    pipe = redis.pipeline(transaction=False)
    pipe.get(user_key)
    pipe.ttl(user_key)
    pipe.get(addr_key)
    pipe.ttl(addr_key)
    user_count, user_ttl, addr_count, addr_ttl = await pipe.execute()
    waits = []
    if user_count is not None and int(user_count) >= limit.per_user:
        waits.append(user_ttl)
    if addr_count is not None and int(addr_count) >= limit.per_address:
        waits.append(addr_ttl)
    if not waits:
        return None
    return max(1, max(int(w) if w and w > 0 else limit.window_s for w in waits))


async def record_failure(redis: Redis, limit: LoginLimit, username: str, address: str) -> None:
    """Count one failure; the window starts at the first failure and is not extended by later ones."""
    keys = _keys(username, address)
    pipe = redis.pipeline(transaction=True)
    for key in keys:
        pipe.incr(key)
        pipe.ttl(key)
    results = await pipe.execute()
    # EXPIRE NX needs Redis 7; a key without a TTL yet is one this failure just created.
    for key, ttl in zip(keys, results[1::2], strict=True):
        if ttl < 0:
            await redis.expire(key, limit.window_s)


async def record_success(redis: Redis, username: str, address: str) -> None:
    """A good password clears the user's count (the address keeps its own, shared with others)."""
    user_key, _ = _keys(username, address)
    await redis.delete(user_key)
