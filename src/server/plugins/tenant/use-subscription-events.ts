import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Database } from '../../../db/database.js';
import { SchemataError } from '../../../errors.js';
import type { GraphQLContext } from '../../../graphql/context.js';
import { DEFAULT_STATEMENT_LIMITS, type StatementLimits } from '../../../tenancy/statement-budget.js';
import { withTenantTransaction, type TenantScope } from '../../../tenancy/tenant-transaction.js';
import type { TenantConcurrency } from '../../limits/tenant-concurrency.js';

export interface UseSubscriptionEventsOptions {
  readonly database: Database;
  /** @default withTenantTransaction */
  readonly scope?: TenantScope;
  /** Each event's load waits for the tenant's share of the pool like any request. */
  readonly concurrency?: TenantConcurrency;
  /** @default DEFAULT_STATEMENT_LIMITS */
  readonly limits?: StatementLimits;
  /** Yoga's error mask: an event whose load fails is sent as the mask makes it, never as it was thrown. */
  readonly maskError: (error: unknown) => Error;
}

/**
 * Event loads of one tenant's subscriptions in flight at once, when no
 * TenantConcurrency gives the tenant's share of the pool. A change fans out
 * to every subscriber of the tenant at the same moment; unbounded, those
 * loads filled the tenant's share and its wait queue, so its own requests got
 * TENANT_BUSY and subscribers within their cap were ended with it. So they
 * go as many at a time as the tenant's share, and the rest wait here, at
 * most one per stream (a stream asks for its next event only after its last
 * was sent).
 */
const DEFAULT_EVENT_LOADS_PER_TENANT = 2;

/**
 * Subscriptions hold no connection while they wait: each event is executed
 * in a READ ONLY tenant transaction of its own (the subscriber's schema and
 * role, so it sees only what its queries could), with a fresh context so no
 * DataLoader or scope verdict outlives the event. An event whose root field
 * resolved to null (not visible, or filtered out) is not sent. A stream that
 * ends with a SchemataError (token expired, tenant suspended) sends it as a
 * last coded error, then completes, over SSE and WebSocket alike.
 */
export function useSubscriptionEvents(options: UseSubscriptionEventsOptions): Plugin<GraphQLContext> {
  const scope = options.scope ?? withTenantTransaction;
  const limits = options.limits ?? DEFAULT_STATEMENT_LIMITS;
  const lanes = new Map<string, LimitFunction>();
  const inLane = async <T>(tenantId: string, work: () => Promise<T>): Promise<T> => {
    let lane = lanes.get(tenantId);
    if (!lane) lanes.set(tenantId, (lane = pLimit(options.concurrency?.perTenant ?? DEFAULT_EVENT_LOADS_PER_TENANT)));
    try {
      return await lane(work);
    } finally {
      if (lane.activeCount === 0 && lane.pendingCount === 0) lanes.delete(tenantId);
    }
  };
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        if (!(Symbol.asyncIterator in source)) return source;
        const context = args.contextValue as GraphQLContext;
        const run = (payload: unknown) => {
          const transaction = () =>
            scope(options.database, context.tenant, { readOnly: true, limits }, (db) =>
              Promise.resolve(execute({ ...(args as ExecutionArgs), rootValue: payload, contextValue: { ...context, db } })),
            );
          const gated = () => (options.concurrency ? options.concurrency.run(context.tenant.id, transaction) : transaction());
          return inLane(context.tenant.id, gated);
        };
        return eachEvent(source[Symbol.asyncIterator](), run, options.maskError);
      });
    },
  };
}

/** Maps events by hand rather than with an async generator, whose return() would wait for the next event before it ends the stream. */
function eachEvent(
  source: AsyncIterator<unknown>,
  run: (payload: unknown) => Promise<ExecutionResult>,
  maskError: (error: unknown) => Error,
): AsyncIterableIterator<ExecutionResult> {
  let done = false;
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    done = true;
    await source.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      while (!done) {
        let next: IteratorResult<unknown>;
        try {
          next = await source.next();
        } catch (error) {
          if (!(error instanceof SchemataError)) throw error;
          done = true;
          return { done: false, value: { errors: [new GraphQLError(error.message, { originalError: error })] } };
        }
        if (next.done) break;
        let result: ExecutionResult;
        try {
          result = await run(next.value);
        } catch (error) {
          // The load itself failed (no connection in time, the database gone): the last event is the masked, coded error.
          await finish();
          return { done: false, value: { errors: [maskError(error) as GraphQLError] } };
        }
        if (result.errors?.length || Object.values(result.data ?? {}).some((value) => value !== null)) return { done: false, value: result };
      }
      return finish();
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
