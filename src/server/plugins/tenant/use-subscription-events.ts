import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../../db/database.js';
import { SchemataError } from '../../../errors.js';
import { ChangeLoads } from '../../../graphql/change-loads.js';
import type { GraphQLContext } from '../../../graphql/context.js';
import { TenantBatches } from '../../../realtime/tenant-batches.js';
import { DEFAULT_STATEMENT_LIMITS, PartBudget, type StatementLimits } from '../../../tenancy/statement-budget.js';
import { withTenantTransaction, type TenantScope } from '../../../tenancy/tenant-transaction.js';
import type { TenantConcurrency } from '../../limits/tenant-concurrency.js';

export interface UseSubscriptionEventsOptions {
  readonly database: Database;
  /** @default withTenantTransaction */
  readonly scope?: TenantScope;
  /** Each batch of events waits for the tenant's share of the pool like any request. */
  readonly concurrency?: TenantConcurrency;
  /** What each event's execution may read, as a request may. @default DEFAULT_STATEMENT_LIMITS */
  readonly limits?: StatementLimits;
  /** Yoga's error mask: an event whose load fails is sent as the mask makes it, never as it was thrown. */
  readonly maskError: (error: unknown) => Error;
}

/**
 * Event batches of one tenant running at once, when no TenantConcurrency
 * gives the tenant's share of the pool: each holds a connection, and the
 * tenant's own requests need the rest of its share.
 */
const DEFAULT_BATCHES_PER_TENANT = 2;

/** Subscriber executions in one batch; more woken at once form the next. */
const MAX_EVENTS_PER_BATCH = 50;

interface PendingEvent {
  readonly args: ExecutionArgs;
  readonly context: GraphQLContext;
  readonly payload: unknown;
  resolve(result: ExecutionResult): void;
  reject(error: unknown): void;
}

/**
 * Subscriptions hold no connection while they wait. A change wakes every
 * subscriber of its tenant at once; their executions run as one batch per
 * tenant (src/realtime/tenant-batches.ts): one READ ONLY scope of the
 * subscribers' own schema and role, so each sees only what its queries
 * could, where the changed row is read once per distinct query
 * (ChangeLoads) instead of once per subscriber, which is what kept a burst
 * of changes seconds behind. Each execution keeps its own context (its
 * user, scopes and DataLoaders) and its own statement and row budget
 * (PartBudget); it is sent as soon as it is done, not when the batch is.
 * An event whose root field resolved to null (not visible, or filtered out)
 * is not sent. A stream that ends with a SchemataError (token expired,
 * tenant suspended) sends it as a last coded error, then completes, over
 * SSE and WebSocket alike.
 */
export function useSubscriptionEvents(options: UseSubscriptionEventsOptions): Plugin<GraphQLContext> {
  const scope = options.scope ?? withTenantTransaction;
  const each = { ...DEFAULT_STATEMENT_LIMITS, ...options.limits };
  const runBatch = async (events: readonly PendingEvent[]): Promise<void> => {
    // Batches are per schema, so every event here has this scope.
    const tenant = events[0]!.context.tenant;
    const unsettled = new Set(events);
    // Statements and rows are metered per part (PartBudget); the transaction's own ceiling is the sum of the parts',
    // plus one statement and row per part for the shared reads of the changed rows, and is the only one on bytes.
    const n = events.length;
    const limits = { maxStatements: (each.maxStatements + 1) * n, maxRows: (each.maxRows + 1) * n, maxBytes: each.maxBytes * n };
    const transaction = () =>
      scope(options.database, tenant, { readOnly: true, limits }, (db) => {
        const changeLoads = new ChangeLoads(db);
        return Promise.all(
          events.map(async (event) => {
            const contextValue = { ...event.context, db: db.withPlugin(new PartBudget(each)), changeLoads };
            let result: ExecutionResult;
            try {
              result = await execute({ ...event.args, rootValue: event.payload, contextValue });
            } catch (error) {
              unsettled.delete(event);
              return event.reject(error);
            }
            unsettled.delete(event);
            event.resolve(result);
          }),
        );
      });
    try {
      await (options.concurrency ? options.concurrency.run(tenant.id, transaction) : transaction());
    } catch (error) {
      // No connection in time, or the database went away: what did not run fails with it.
      for (const event of unsettled) event.reject(error);
    }
  };
  const batches = new TenantBatches<PendingEvent>({
    width: options.concurrency?.perTenant ?? DEFAULT_BATCHES_PER_TENANT,
    maxBatch: MAX_EVENTS_PER_BATCH,
    run: runBatch,
  });
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        if (!(Symbol.asyncIterator in source)) return source;
        const context = args.contextValue as GraphQLContext;
        const run = (payload: unknown) =>
          new Promise<ExecutionResult>((resolve, reject) => batches.add(context.tenant.schema_name, { args: args as ExecutionArgs, context, payload, resolve, reject }));
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
