import { createHash } from 'node:crypto';
import { createInMemoryCache } from '@graphql-yoga/plugin-response-cache';
import { getOperationAST, print, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { TenantRegistry } from '../../../control/registry/tenant-registry.js';
import type { GraphQLContext } from '../../../graphql/context.js';
import { isIntrospectionOnly } from '../../../graphql/introspection-only.js';
import type { Metrics } from '../../observability/metrics.js';

export interface TenantResponseCacheOptions {
  /**
   * How long a result is served from memory. This process's own mutations
   * invalidate their tenant at once; writes it cannot see (another instance,
   * the CLI) show after at most this long.
   */
  readonly ttlMs: number;
  /** Results kept at once; the least recently used go first. @default 1000 */
  readonly maxEntries?: number;
  /**
   * Who may be served a result cached for this request: equal strings share,
   * null means "do not cache". `generation` changes with every write to the
   * tenant, so it must be part of the answer.
   * @default tenant id, generation, token subject and role; anonymous requests are not cached
   */
  readonly shareKey?: (context: GraphQLContext, generation: string) => string | null;
  /** Tenant changes it notifies (suspension, keys, plan) drop the tenant's results too. */
  readonly registry?: Pick<TenantRegistry, 'onInvalidate'>;
  /** Counts hits and misses (`schemata_response_cache_total`). */
  readonly metrics?: Pick<Metrics, 'responseCache'>;
}

const byTenantAndUser = (context: GraphQLContext, generation: string): string | null => {
  const user = context.currentUser;
  return user ? JSON.stringify([context.tenant.id, generation, user.subject, user.role]) : null;
};

/**
 * Serves a signed-in user's repeated query from memory. It hooks onExecute
 * and is registered after the rate limit, so the request has already passed
 * everything that may refuse it: tenant resolution (unknown, suspended),
 * authentication, the document limits and the rate limit (which therefore
 * counts hits too). A hit stops execution before the tenant transaction, so
 * it takes no pooled connection and runs no SQL. Results with errors are not
 * kept. Any mutation in a tenant, whatever it touched, moves the tenant to a
 * new generation, which is part of every key.
 *
 * (Yoga's useResponseCache is not used as a plugin: it answers hits from
 * onParams, before the context exists, so its key cannot name the resolved
 * tenant or the verified user, and a hit skips auth and the rate limit.)
 */
export function useTenantResponseCache(options: TenantResponseCacheOptions): Plugin<GraphQLContext> {
  const cache = createInMemoryCache({ max: options.maxEntries ?? 1000 });
  const shareKey = options.shareKey ?? byTenantAndUser;
  const generations = new TenantGenerations();
  options.registry?.onInvalidate((tenantId) => generations.bump(tenantId));

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document as DocumentNode, args.operationName);
      const context = args.contextValue as GraphQLContext & Partial<YogaInitialContext>;
      if (!operation) return;
      const tenantId = context.tenant.id;
      if (operation.operation === 'mutation') {
        // After the transaction has committed (or rolled back): a read that
        // starts later gets a new key and sees the write.
        return { onExecuteDone: () => generations.bump(tenantId) };
      }
      if (operation.operation !== 'query' || isIntrospectionOnly(operation)) return;
      const generation = generations.of(tenantId);
      const share = shareKey(context, generation);
      if (share === null) return;

      const document = context.params?.query ?? print(args.document as DocumentNode);
      const key = createHash('sha256')
        .update(JSON.stringify([share, args.operationName ?? null, document, args.variableValues ?? {}]))
        .digest('base64url');
      const cached = await cache.get(key);
      if (cached) {
        options.metrics?.responseCache('hit');
        // A fresh envelope: whatever later decorates the result must not touch the cached one.
        setResultAndStopExecution({ data: cached.data });
        return;
      }
      options.metrics?.responseCache('miss');
      return {
        onExecuteDone({ result }) {
          if (!isPlainResult(result) || result.errors?.length || !result.data) return;
          // A write that finished meanwhile may not be in this result: do not keep it.
          if (generations.of(tenantId) !== generation) return;
          void cache.set(key, { data: result.data }, [], options.ttlMs);
        },
      };
    },
  };
}

/** A counter per tenant, plus one for "everything", that moves on every write. */
class TenantGenerations {
  private everything = 0;
  private readonly perTenant = new Map<string, number>();

  of(tenantId: string): string {
    return `${this.everything}.${this.perTenant.get(tenantId) ?? 0}`;
  }

  bump(tenantId: string | undefined): void {
    if (tenantId === undefined) this.everything++;
    else this.perTenant.set(tenantId, (this.perTenant.get(tenantId) ?? 0) + 1);
  }
}

function isPlainResult(result: unknown): result is ExecutionResult {
  return typeof result === 'object' && result !== null && !(Symbol.asyncIterator in result);
}
