import type { Plugin } from 'graphql-yoga';
import { SchemataError } from '../../errors.js';
import type { GraphQLContext } from '../../graphql/context.js';
import type { RateDecision, TenantRateLimiter } from '../tenant-rate-limiter.js';

export interface RateLimitOptions {
  readonly limiter: TenantRateLimiter;
}

/**
 * Counts each operation against its tenant's plan, per minute and per day,
 * before any database work, and reports one window on every response:
 * X-RateLimit-Limit, -Remaining and -Reset (seconds). That window is the one
 * that refused, or else the one with fewer requests left (the minute, until
 * the day's budget runs low). Over either limit: 429 RATE_LIMITED naming the
 * limit, with Retry-After.
 */
export function useRateLimit(options: RateLimitOptions): Plugin<GraphQLContext> {
  const decisions = new WeakMap<Request, RateDecision>();
  return {
    async onExecute({ args }) {
      const context = args.contextValue as GraphQLContext & { request: Request };
      const decision = await options.limiter.consume(context.tenant, context.plan);
      decisions.set(context.request, decision);
      if (!decision.allowed) {
        throw new SchemataError(
          'RATE_LIMITED',
          `tenant "${context.tenant.slug}" is over its plan's ${decision.limit} requests a ${decision.window}: retry in ${decision.resetSeconds} s`,
          { limit: decision.window === 'day' ? 'requestsPerDay' : 'requestsPerMinute', retryAfterSeconds: decision.resetSeconds },
        );
      }
    },
    onResponse({ request, response }) {
      const decision = decisions.get(request);
      if (!decision) return;
      response.headers.set('x-ratelimit-limit', String(decision.limit));
      response.headers.set('x-ratelimit-remaining', String(decision.remaining));
      response.headers.set('x-ratelimit-reset', String(decision.resetSeconds));
      if (!decision.allowed) response.headers.set('retry-after', String(decision.resetSeconds));
    },
  };
}
