import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { TenantPlan } from '../db/control-database.js';

/**
 * API requests per minute by plan. A lookup table until plans move into the
 * control plane's data (issue 5).
 */
export const REQUESTS_PER_MINUTE: Readonly<Record<TenantPlan, number>> = { basic: 600, premium: 3_000, enterprise: 12_000, custom: 3_000 };

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the window resets. */
  readonly resetSeconds: number;
}

export interface TenantRateLimiter {
  consume(tenant: { readonly id: string; readonly plan: TenantPlan }): Promise<RateDecision>;
  close(): Promise<void>;
}

export interface TenantRateLimiterOptions {
  /** Share the counts with every server that uses the same Redis; otherwise they live in this process. */
  readonly redisUrl?: string | undefined;
  /** Overrides the plan table (tests). */
  readonly requestsPerMinute?: (plan: TenantPlan) => number;
  /** @default 'schemata:rate' */
  readonly keyPrefix?: string;
}

/**
 * Fixed one-minute windows per tenant (rate-limiter-flexible), in memory or
 * in Redis. If Redis stops answering, counting falls back to this process's
 * memory rather than refusing every request.
 */
export function createTenantRateLimiter(options: TenantRateLimiterOptions = {}): TenantRateLimiter {
  const perMinute = options.requestsPerMinute ?? ((plan: TenantPlan) => REQUESTS_PER_MINUTE[plan]);
  const keyPrefix = options.keyPrefix ?? 'schemata:rate';
  const redis = options.redisUrl ? new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }) : undefined;
  redis?.on('error', () => undefined);
  const limiters = new Map<number, RateLimiterAbstract>();
  const limiterFor = (points: number): RateLimiterAbstract => {
    let limiter = limiters.get(points);
    if (!limiter) {
      const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: `${keyPrefix}:${points}` });
      limiter = redis ? new RateLimiterRedis({ storeClient: redis, points, duration: 60, keyPrefix: `${keyPrefix}:${points}`, insuranceLimiter: memory }) : memory;
      limiters.set(points, limiter);
    }
    return limiter;
  };
  return {
    async consume(tenant) {
      const limit = perMinute(tenant.plan);
      try {
        const result = await limiterFor(limit).consume(tenant.id);
        return { allowed: true, limit, remaining: result.remainingPoints, resetSeconds: Math.ceil(result.msBeforeNext / 1000) };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        return { allowed: false, limit, remaining: 0, resetSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      }
    },
    async close() {
      redis?.disconnect();
    },
  };
}
