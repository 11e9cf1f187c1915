import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A plan's request limits (control.plans); the Plan type has this shape. */
export interface RateLimits {
  readonly requestsPerMinute: number;
  /** null: no daily limit. */
  readonly requestsPerDay: number | null;
}

export type RateWindow = 'minute' | 'day';

export interface RateDecision {
  readonly allowed: boolean;
  /**
   * The window described: the one that refused, or else the one with fewer
   * requests left, so `remaining` is what the tenant may still send now.
   */
  readonly window: RateWindow;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the window resets. */
  readonly resetSeconds: number;
}

export interface TenantRateLimiter {
  consume(tenant: { readonly id: string }, limits: RateLimits): Promise<RateDecision>;
  close(): Promise<void>;
}

export interface TenantRateLimiterOptions {
  /** Share the counts with every server that uses the same Redis; otherwise they live in this process. */
  readonly redisUrl?: string | undefined;
  /** Overrides the plan's per-minute limit (tests, RATE_LIMIT_PER_MINUTE). */
  readonly requestsPerMinute?: (limits: RateLimits) => number;
  /** Overrides the plan's per-day limit; null turns the daily window off. */
  readonly requestsPerDay?: (limits: RateLimits) => number | null;
  /** @default 'schemata:rate' */
  readonly keyPrefix?: string;
}

const WINDOW_SECONDS: Readonly<Record<RateWindow, number>> = { minute: 60, day: 86_400 };

/**
 * Fixed windows per tenant (rate-limiter-flexible), one minute and one day,
 * in memory or in Redis. The counters do not depend on the limit, which is
 * compared here, so a plan change applies at once without resetting them.
 * A request refused by the minute window does not count against the day.
 * If Redis stops answering, counting falls back to this process's memory
 * rather than refusing every request.
 */
export function createTenantRateLimiter(options: TenantRateLimiterOptions = {}): TenantRateLimiter {
  const perMinute = options.requestsPerMinute ?? ((limits: RateLimits) => limits.requestsPerMinute);
  const perDay = options.requestsPerDay ?? ((limits: RateLimits) => limits.requestsPerDay);
  const keyPrefix = options.keyPrefix ?? 'schemata:rate';
  const redis = options.redisUrl ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }) : undefined;
  redis?.on('error', () => undefined);
  const counter = (window: RateWindow): RateLimiterAbstract => {
    // Never refuses by itself: the limit is applied to consumedPoints below.
    const settings = { points: Number.MAX_SAFE_INTEGER, duration: WINDOW_SECONDS[window], keyPrefix: `${keyPrefix}:${window}` };
    const memory = new RateLimiterMemory(settings);
    return redis ? new RateLimiterRedis({ ...settings, storeClient: redis, insuranceLimiter: memory }) : memory;
  };
  const counters: Readonly<Record<RateWindow, RateLimiterAbstract>> = { minute: counter('minute'), day: counter('day') };

  const count = async (window: RateWindow, tenantId: string, limit: number): Promise<RateDecision> => {
    const result = await counters[window].consume(tenantId).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return rejection;
      throw rejection;
    });
    const allowed = result.consumedPoints <= limit;
    const resetSeconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    return { allowed, window, limit, remaining: Math.max(0, limit - result.consumedPoints), resetSeconds };
  };

  return {
    async consume(tenant, limits) {
      const minute = await count('minute', tenant.id, perMinute(limits));
      const dayLimit = perDay(limits);
      if (!minute.allowed || dayLimit === null) return minute;
      const day = await count('day', tenant.id, dayLimit);
      if (!day.allowed) return day;
      return day.remaining < minute.remaining ? day : minute;
    },
    async close() {
      redis?.disconnect();
    },
  };
}
