import type { Plugin } from 'graphql-yoga';
import { SchemataError } from '../../../errors.js';
import type { GraphQLContext } from '../../../graphql/context.js';
import type { RateBudget, RateDecision, TenantRateLimiter } from '../../limits/tenant-rate-limiter.js';
import { sparesTenantBudget } from './use-anonymous-guard.js';

export interface RateLimitOptions {
  readonly limiter: TenantRateLimiter;
}

const OVER: Readonly<Record<RateBudget, (decision: RateDecision, tenant: string) => string>> = {
  requestsPerMinute: (d, tenant) => `tenant "${tenant}" is over its plan's ${d.limit} requests a minute`,
  requestsPerDay: (d, tenant) => `tenant "${tenant}" is over its plan's ${d.limit} requests a day`,
  anonymousPerAddressPerMinute: (d) => `this address is over ${d.limit} requests a minute without a token`,
  anonymousPerTenantPerMinute: (d, tenant) => `tenant "${tenant}" is over ${d.limit} requests a minute without a token`,
  deploymentsPerHour: (d, tenant) => `tenant "${tenant}" has created the ${d.limit} deployments an hour its plan allows`,
  workflowsPerHour: (d, tenant) => `tenant "${tenant}" has created the ${d.limit} workflows an hour its plan allows`,
};

/** The refusal of a decision that did not allow: 429 RATE_LIMITED naming the limit, with Retry-After. */
export function rateLimitedError(decision: RateDecision, tenant: string): SchemataError {
  return new SchemataError('RATE_LIMITED', `${OVER[decision.budget](decision, tenant)}: retry in ${decision.resetSeconds} s`, {
    limit: decision.budget,
    max: decision.limit,
    retryAfterSeconds: decision.resetSeconds,
  });
}

/**
 * Counts each operation before any database work: one with a token against
 * its tenant's plan, per minute and per day; one without against the
 * anonymous budgets of its client address and its tenant (the tenant's not
 * for meta fields and `refresh`, see useAnonymousGuard), so strangers never
 * spend the plan's budget. Reports one window on every response:
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
      const decision = context.currentUser
        ? await options.limiter.consume(context.tenant, context.plan)
        : await options.limiter.consumeAnonymous(context.tenant, context.clientAddress, { tenant: !sparesTenantBudget(context) });
      decisions.set(context.request, decision);
      if (!decision.allowed) throw rateLimitedError(decision, context.tenant.slug);
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
