import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Places under a plan's maxSubscriptions shared by every server that uses
 * the same Redis, so a tenant's plan limit holds for the tenant, not once
 * per server. Without it each server counts only its own streams.
 */
export interface PlanSubscriptionSlots {
  /** One more place for a stream of `tenantId`, or null when `max` are taken; rejects when the store does not answer. */
  take(tenantId: string, max: number): Promise<{ release(): void } | null>;
  close(): Promise<void>;
}

export interface RedisPlanSubscriptionSlotsOptions {
  /** @default 'schemata:subscriptions' */
  readonly keyPrefix?: string;
  /**
   * How long a place outlives a server that stops renewing it (renewal runs
   * every 40 % of this): a server that crashed gives its tenants' places
   * back after this long.
   * @default 30000
   */
  readonly leaseMs?: number;
}

// A sorted set per tenant: one member per open stream, scored by when its lease lapses, in Redis's own clock
// (servers whose clocks disagree must not expire each other's leases).
const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;
const TAKE = `${NOW}
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[3])
return 1`;
// Re-added even if one lapsed while Redis was away: the stream is open, so it counts.
const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('zadd', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('pexpire', KEYS[1], ARGV[1])
return 1`;

/**
 * Leases in Redis, renewed together by one timer per server. (redis-semaphore
 * does the same with a timer per holder, and its renewal rejects unhandled
 * when Redis is away, which would end the process.)
 */
export function createRedisPlanSubscriptionSlots(redisUrl: string, options: RedisPlanSubscriptionSlotsOptions = {}): PlanSubscriptionSlots {
  // Queued while connecting (the first subscriptions come as the server starts), but never for long: past the timeout the limit is counted per server.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 500 });
  redis.on('error', () => undefined);
  const prefix = options.keyPrefix ?? 'schemata:subscriptions';
  const leaseMs = options.leaseMs ?? 30_000;
  const server = randomUUID();
  /** This server's places: member → the tenant's key. */
  const held = new Map<string, string>();
  const renew = setInterval(() => {
    const byKey = new Map<string, string[]>();
    for (const [member, key] of held) byKey.set(key, [...(byKey.get(key) ?? []), member]);
    for (const [key, members] of byKey) redis.eval(RENEW, 1, key, leaseMs, ...members).catch(() => undefined);
  }, Math.round(leaseMs * 0.4)).unref();
  let next = 0;
  return {
    async take(tenantId, max) {
      const key = `${prefix}:${tenantId}`;
      const member = `${server}:${++next}`;
      const taken = await redis.eval(TAKE, 1, key, max, member, leaseMs);
      if (taken !== 1) return null;
      held.set(member, key);
      return {
        release: () => {
          if (held.delete(member)) redis.zrem(key, member).catch(() => undefined);
        },
      };
    },
    async close() {
      clearInterval(renew);
      if (held.size > 0) {
        const pipeline = redis.pipeline();
        for (const [member, key] of held) pipeline.zrem(key, member);
        held.clear();
        await pipeline.exec().catch(() => undefined);
      }
      redis.disconnect();
    },
  };
}
