import type { Plugin } from 'graphql-yoga';
import { SchemataError } from '../../errors.js';
import type { GraphQLContext } from '../../graphql/context.js';
import type { RateDecision, TenantRateLimiter } from '../tenant-rate-limiter.js';

export interface RateLimitOptions {
  readonly limiter: TenantRateLimiter;
}

/**
 * Counts each operation against its tenant's plan before any database work,
 * and reports the window on every response: X-RateLimit-Limit, -Remaining
 * and -Reset (seconds). Over the limit: 429 RATE_LIMITED with Retry-After.
 */
export function useRateLimit(options: RateLimitOptions): Plugin<GraphQLContext> {
  const decisions = new WeakMap<Request, RateDecision>();
  return {
    async onExecute({ args }) {
      const context = args.contextValue as GraphQLContext & { request: Request };
      const decision = await options.limiter.consume(context.tenant);
      decisions.set(context.request, decision);
      if (!decision.allowed) {
        throw new SchemataError('RATE_LIMITED', `tenant "${context.tenant.slug}" is over its plan's ${decision.limit} requests a minute: retry in ${decision.resetSeconds} s`, {
          retryAfterSeconds: decision.resetSeconds,
        });
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
