import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A plan's request limits (control.plans); the Plan type has this shape. */
export interface RateLimits {
  readonly requestsPerMinute: number;
  /** null: no daily limit. */
  readonly requestsPerDay: number | null;
}

export type RateWindow = 'minute' | 'hour' | 'day';

/**
 * Which budget a decision describes: the tenant's plan (per minute, per day),
 * or, for requests without a token, the anonymous budgets per client address
 * and per tenant. Also the `limit` named in a RATE_LIMITED error.
 */
export type RateBudget = 'requestsPerMinute' | 'requestsPerDay' | 'anonymousPerAddressPerMinute' | 'anonymousPerTenantPerMinute' | ResourceBudget;

/** Expensive actions, limited per tenant and hour apart from plain requests (the plan's columns of the same names). */
export type ResourceBudget = 'deploymentsPerHour' | 'workflowsPerHour';

export interface RateDecision {
  readonly allowed: boolean;
  readonly budget: RateBudget;
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
  /** Counts a request that carries a token against its tenant's plan. */
  consume(tenant: { readonly id: string }, limits: RateLimits): Promise<RateDecision>;
  /**
   * Counts a request without a token against the anonymous budgets of its
   * client address and of its tenant, never against the plan's: strangers
   * cannot spend what the tenant's signed-in users need. With
   * `charge.tenant` false only the address's budget counts.
   */
  consumeAnonymous(tenant: { readonly id: string }, clientAddress: string, charge?: { readonly tenant: boolean }): Promise<RateDecision>;
  /** Counts one expensive action of the tenant (a deployment, a workflow created) against its plan's hourly `limit`. */
  consumeResource(tenant: { readonly id: string }, budget: ResourceBudget, limit: number): Promise<RateDecision>;
  /** Gives back what consumeResource counted, for an action that was rolled back: it created nothing. */
  refundResource(tenant: { readonly id: string }, budget: ResourceBudget): Promise<void>;
  /**
   * Resolves true once the shared store answers (at once in memory), false
   * after `timeoutMs` without it. Until then counts go to this process's
   * memory, so a server that takes requests before this would let each
   * instance spend a budget of its own.
   */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface TenantRateLimiterOptions {
  /** Share the counts with every server that uses the same Redis; otherwise they live in this process. */
  readonly redisUrl?: string | undefined;
  /** Overrides the plan's per-minute limit (tests, RATE_LIMIT_PER_MINUTE). */
  readonly requestsPerMinute?: (limits: RateLimits) => number;
  /** Overrides the plan's per-day limit; null turns the daily window off. */
  readonly requestsPerDay?: (limits: RateLimits) => number | null;
  /** Requests without a token per client address and minute, over all tenants. @default 120 */
  readonly anonymousPerAddressPerMinute?: number;
  /** Requests without a token per tenant and minute, over all addresses. @default 600 */
  readonly anonymousPerTenantPerMinute?: number;
  /** @default 'schemata:rate' */
  readonly keyPrefix?: string;
}

const COUNTERS = {
  requestsPerMinute: { window: 'minute', key: 'minute' },
  requestsPerDay: { window: 'day', key: 'day' },
  anonymousPerAddressPerMinute: { window: 'minute', key: 'anon-address' },
  anonymousPerTenantPerMinute: { window: 'minute', key: 'anon-tenant' },
  deploymentsPerHour: { window: 'hour', key: 'deployments' },
  workflowsPerHour: { window: 'hour', key: 'workflows' },
} as const satisfies Record<RateBudget, { window: RateWindow; key: string }>;

const WINDOW_SECONDS: Readonly<Record<RateWindow, number>> = { minute: 60, hour: 3_600, day: 86_400 };

/**
 * Fixed windows per tenant (rate-limiter-flexible), one minute and one day,
 * and for requests without a token one minute per client address and one per
 * tenant, in memory or in Redis. The counters do not depend on the limit, which is
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
  const anonymousPerAddress = options.anonymousPerAddressPerMinute ?? 120;
  const anonymousPerTenant = options.anonymousPerTenantPerMinute ?? 600;
  const counter = (budget: RateBudget): RateLimiterAbstract => {
    const { window, key } = COUNTERS[budget];
    // Never refuses by itself: the limit is applied to consumedPoints below.
    const settings = { points: Number.MAX_SAFE_INTEGER, duration: WINDOW_SECONDS[window], keyPrefix: `${keyPrefix}:${key}` };
    const memory = new RateLimiterMemory(settings);
    return redis ? new RateLimiterRedis({ ...settings, storeClient: redis, insuranceLimiter: memory }) : memory;
  };
  const counters = Object.fromEntries(Object.keys(COUNTERS).map((budget) => [budget, counter(budget as RateBudget)])) as Record<RateBudget, RateLimiterAbstract>;

  const count = async (budget: RateBudget, key: string, limit: number): Promise<RateDecision> => {
    const result = await counters[budget].consume(key).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes) return rejection;
      throw rejection;
    });
    const allowed = result.consumedPoints <= limit;
    const resetSeconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    return { allowed, budget, window: COUNTERS[budget].window, limit, remaining: Math.max(0, limit - result.consumedPoints), resetSeconds };
  };
  // Counts `second` only if `first` allowed the request; describes the one that refused, or else the one with fewer left.
  const both = async (first: () => Promise<RateDecision>, second: () => Promise<RateDecision>): Promise<RateDecision> => {
    const one = await first();
    if (!one.allowed) return one;
    const two = await second();
    if (!two.allowed) return two;
    return two.remaining < one.remaining ? two : one;
  };

  return {
    async consume(tenant, limits) {
      const minute = () => count('requestsPerMinute', tenant.id, perMinute(limits));
      const dayLimit = perDay(limits);
      return dayLimit === null ? minute() : both(minute, () => count('requestsPerDay', tenant.id, dayLimit));
    },
    consumeResource(tenant, budget, limit) {
      return count(budget, tenant.id, limit);
    },
    async refundResource(tenant, budget) {
      await counters[budget].reward(tenant.id, 1);
    },
    async consumeAnonymous(tenant, clientAddress, charge = { tenant: true }) {
      const address = () => count('anonymousPerAddressPerMinute', clientAddress, anonymousPerAddress);
      if (!charge.tenant) return address();
      // The address first: one address over its budget then no longer eats into the tenant's.
      return both(address, () => count('anonymousPerTenantPerMinute', tenant.id, anonymousPerTenant));
    },
    async ready(timeoutMs = 2_000) {
      if (!redis || redis.status === 'ready') return true;
      return new Promise<boolean>((resolve) => {
        const done = (answer: boolean) => {
          clearTimeout(timer);
          redis.off('ready', onReady);
          resolve(answer);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        redis.on('ready', onReady);
      });
    },
    async close() {
      redis?.disconnect();
    },
  };
}
