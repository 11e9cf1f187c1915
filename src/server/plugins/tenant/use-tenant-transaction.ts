import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../../db/database.js';
import { SchemataError } from '../../../errors.js';
import type { GraphQLContext } from '../../../graphql/context.js';
import { isIntrospectionOnly } from '../../../graphql/introspection-only.js';
import { DEFAULT_STATEMENT_LIMITS, type StatementLimits } from '../../../tenancy/statement-budget.js';
import { NO_TRANSACTION, withTenantTransaction, type TenantScope } from '../../../tenancy/tenant-transaction.js';
import type { HeavyOperationLane } from '../../limits/heavy-operation-lane.js';
import type { TenantConcurrency } from '../../limits/tenant-concurrency.js';
import { operationCost } from '../shared/use-query-cost.js';

export interface UseTenantTransactionOptions {
  readonly database: Database;
  /**
   * How the tenant scope is applied.
   * @default withTenantTransaction
   */
  readonly scope?: TenantScope;
  /** Caps the connections one tenant holds at once; without it a tenant may take the whole pool. */
  readonly concurrency?: TenantConcurrency;
  /** Where heavy operations (by their cost) wait their turn; without it they run like any other. */
  readonly heavy?: HeavyOperationLane;
  /**
   * The ceiling on what one operation may read from PostgreSQL.
   * @default DEFAULT_STATEMENT_LIMITS
   */
  readonly limits?: StatementLimits;
}

/** Carries a mutation's result out of the transaction it rolled back. */
class RolledBack {
  constructor(readonly result: ExecutionResult) {}
}

/**
 * Runs each operation inside one tenant transaction: queries READ ONLY,
 * mutations read-write and atomic (any error rolls the whole operation back,
 * and its data is withheld, since none of it was kept, unless every error is
 * a refusal that must keep its writes; what it counted against the plan's
 * hourly limits is given back). Operations that only introspect never touch
 * the database.
 */
export function useTenantTransaction(options: UseTenantTransactionOptions): Plugin<GraphQLContext> {
  const scope = options.scope ?? withTenantTransaction;
  const limits = options.limits ?? DEFAULT_STATEMENT_LIMITS;
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args) => {
        const operation = getOperationAST(args.document as DocumentNode, args.operationName);
        if (!operation || isIntrospectionOnly(operation)) return executeFn(args);
        const context = args.contextValue as GraphQLContext;
        const readOnly = operation.operation === 'query';
        const transaction = () =>
          scope(options.database, context.tenant, { readOnly, limits }, async (db) => {
            context.db = db;
            let result: ExecutionResult;
            try {
              result = (await executeFn(args)) as ExecutionResult;
            } finally {
              context.db = NO_TRANSACTION;
            }
            // Past the ceiling, what was read is dropped rather than sent half-complete.
            const tooLarge = result.errors?.find((error) => codeOf(error) === 'RESULT_TOO_LARGE');
            if (tooLarge) throw new RolledBack({ data: null, errors: [tooLarge] });
            if (!readOnly && result.errors?.length && !result.errors.every(keepsWrites)) throw new RolledBack({ ...result, data: null });
            return result;
          });
        const limited = options.concurrency ? () => options.concurrency!.run(context.tenant.id, transaction) : transaction;
        try {
          return await (options.heavy ? options.heavy.run(context.tenant.id, operationCost(context) ?? 0, limited) : limited());
        } catch (error) {
          // Nothing of a write that did not commit was created: what it counted against hourly limits counts no more.
          if (!readOnly) await context.refundResources().catch(() => undefined);
          if (error instanceof RolledBack) return error.result;
          throw error;
        }
      });
    },
  };
}

/** A refusal that must still commit what it wrote (see SchemataError.keepWrites). */
function keepsWrites(error: GraphQLError): boolean {
  const original = error.originalError;
  return original instanceof SchemataError && original.keepWrites;
}

function codeOf(error: GraphQLError): string | undefined {
  return error.originalError instanceof SchemataError ? error.originalError.code : undefined;
}
