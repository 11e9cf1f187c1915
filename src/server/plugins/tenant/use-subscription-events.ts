import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
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
}

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
          return options.concurrency ? options.concurrency.run(context.tenant.id, transaction) : transaction();
        };
        return eachEvent(source[Symbol.asyncIterator](), run);
      });
    },
  };
}

/** Maps events by hand rather than with an async generator, whose return() would wait for the next event before it ends the stream. */
function eachEvent(source: AsyncIterator<unknown>, run: (payload: unknown) => Promise<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
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
        const result = await run(next.value);
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
