"""Shard leases: each readings shard is owned by one live worker at a time, shared fairly among them."""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis

from hypervision import bus

# Renew only if we still own it: a worker that stalled past its lease must not take it back silently.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaseManager:
    """Acquires, renews and releases the leases of one worker, keeping its fair share of shards."""

    def __init__(self, redis: Redis, *, name: str, shards: int, ttl_ms: int) -> None:
        self.redis = redis
        self.name = name
        self.shards = shards
        self.ttl_ms = ttl_ms
        self.owned: set[int] = set()
        self.epochs: dict[int, int] = {}
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def heartbeat(self) -> int:
        """Announce this worker and return how many workers are alive."""
        now_ms = int(time.time() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(bus.WORKERS_ALIVE_KEY, {self.name: now_ms + self.ttl_ms})
        pipe.zremrangebyscore(bus.WORKERS_ALIVE_KEY, "-inf", now_ms)
        pipe.zcard(bus.WORKERS_ALIVE_KEY)
        *_, alive = await pipe.execute()
        return max(1, int(alive))

    async def rebalance(self) -> tuple[set[int], set[int]]:
        """Renew what we own, take free shards up to our fair share, give back extras.

        Returns (gained, lost): the caller loads state for gained shards and forgets lost ones.
        """
        lost = await self.renew()
        alive = await self.heartbeat()
        share = math.ceil(self.shards / alive)
        while len(self.owned) > share:
            shard = max(self.owned)
            await self._release(keys=[bus.lease_key(shard)], args=[self.name])
            self.owned.discard(shard)
            lost.add(shard)
        gained: set[int] = set()
        for shard in range(self.shards):
            if len(self.owned) >= share:
                break
            if shard in self.owned:
                continue
            if await self.redis.set(bus.lease_key(shard), self.name, nx=True, px=self.ttl_ms):
                # Renewals change the lease key's TTL, so commits are fenced on this epoch instead.
                self.epochs[shard] = int(await self.redis.incr(bus.lease_epoch_key(shard)))
                self.owned.add(shard)
                gained.add(shard)
        return gained, lost

    async def renew(self) -> set[int]:
        """Extend every lease we hold; returns the shards we no longer own."""
        lost = set()
        for shard in sorted(self.owned):
            if not await self._renew(keys=[bus.lease_key(shard)], args=[self.name, self.ttl_ms]):
                lost.add(shard)
        self.owned -= lost
        return lost

    async def release_all(self) -> None:
        for shard in sorted(self.owned):
            await self._release(keys=[bus.lease_key(shard)], args=[self.name])
        self.owned.clear()
        await self.redis.zrem(bus.WORKERS_ALIVE_KEY, self.name)
