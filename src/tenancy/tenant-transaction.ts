import type { Kysely, KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { Tenant } from '../db/control-database.js';
import type { Database, TransactionOpening } from '../db/database.js';
import type { TenantDatabase } from '../db/tenant-database.js';
import { StatementBudget, type StatementLimits } from './statement-budget.js';
import { requestScope, scopeStatement } from './transaction-scope.js';

/** The request's handle on its tenant's tables, valid only inside the transaction. */
export type TenantDb = Kysely<TenantDatabase>;

export interface TenantTransactionOptions {
  /** Reads run READ ONLY, so a query path can never write by accident. */
  readonly readOnly?: boolean;
  /**
   * Longest a single statement may run before Postgres cancels it.
   * @default 5000
   */
  readonly statementTimeoutMs?: number;
  /**
   * Longest the transaction may sit idle (the server stalled mid-request) before Postgres ends the session.
   * @default 10000
   */
  readonly idleTimeoutMs?: number;
  /** Caps the statements, rows and bytes of the transaction; without it there is no ceiling (CLIs, migrations). */
  readonly limits?: StatementLimits;
}

/**
 * The request's handle outside its transaction: before it begins and after it
 * ends. A resolver that runs then (one graphql-js left running when a sibling
 * failed) fails loudly instead of reaching a connection already given back.
 */
export const NO_TRANSACTION = new Proxy({} as TenantDb, {
  get() {
    throw new Error('tenant data accessed outside the tenant transaction');
  },
});

/** Runs `work` in a tenant's scope; `withTenantTransaction` is the implementation, tests may pass others. */
export type TenantScope = <T>(
  database: Database,
  tenant: Pick<Tenant, 'schema_name'>,
  options: TenantTransactionOptions,
  work: (db: TenantDb) => Promise<T>,
) => Promise<T>;

/**
 * The request's tenant transaction. One pooled connection, one transaction:
 * BEGIN and the tenant scope (its schema alone on search_path, its role; see
 * TransactionScope) go out with the first statement, in one message.
 * Statement and idle timeouts travel in the same statement as the scope,
 * transaction-local like it, so a runaway query cannot hold a connection.
 *
 * A write commits when `work` resolves and rolls back when it throws. A read
 * opens no transaction spanning the request: the scope, READ ONLY first,
 * travels in front of every statement, each message its own implicit
 * transaction (see TransactionOpening.eachStatement), which saves the COMMIT
 * round trip; its statements see the database as READ COMMITTED ones would.
 * A connection that cannot even roll back, or that is left inside a
 * transaction, is released as broken, so the pool destroys it.
 */
export const withTenantTransaction: TenantScope = async (database, tenant, options, work) => {
  // Built (and its names checked) before a connection is taken.
  const enter = scopeStatement(requestScope(tenant.schema_name), {
    statement_timeout: options.statementTimeoutMs ?? 5_000,
    idle_in_transaction_session_timeout: options.idleTimeoutMs ?? 10_000,
  });
  // BEGIN and the scope go out with the request's first statement, in one
  // round trip (see TransactionOpening): no statement can run outside them,
  // and a request that runs none opens no transaction at all.
  const opening: TransactionOpening = options.readOnly
    ? // First, so that it holds for every statement of the message, the scope's SELECT included.
      { sql: `SET LOCAL transaction_read_only = on; ${enter}`, eachStatement: true }
    : { sql: `BEGIN; ${enter}` };
  // The pooled client's handle outlives this transaction; this one does not. A
  // resolver still holding it after the answer went out (graphql-js returns
  // early when a null bubbles up) would otherwise reach the client's next
  // transaction, maybe another tenant's.
  const guard = new EndedTransactionGuard();
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    const db = database.bindClient(client, options.limits && new StatementBudget(client, options.limits), opening).withPlugin(guard);
    // Once `work` is over nothing more may be compiled or sent (a statement
    // compiled just before goes on the wire a few ticks later, and would reach
    // the connection after it went back); what was already sent is awaited below.
    const result = await work(db).finally(() => {
      guard.ended = true;
      opening.ended = true;
    });
    if (opening.eachStatement || !opening.opened) return result;
    // A message PostgreSQL refused whole opened no transaction: COMMIT there would "succeed" with a warning.
    if (!(await opening.opened.then(() => true, () => false))) throw new Error('the tenant transaction could not begin');
    // COMMIT of an aborted transaction "succeeds" as ROLLBACK: a write must not pass for success.
    const commit = await client.query('COMMIT');
    if (commit.command !== 'COMMIT') throw new Error('the tenant transaction was aborted by an earlier error and rolled back');
    return result;
  } catch (error) {
    try {
      // Always, once anything was sent: a statement may still be in flight, and ROLLBACK queues behind it.
      if (opening.opened) await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    if (opening.eachStatement) {
      // Nothing to commit or roll back, but a statement may still be in flight: the connection goes back after it.
      await opening.settled;
      if (client.getTransactionStatus() !== 'I') broken ??= new Error('a read left its connection inside a transaction');
    }
    opening.ended = true; // also when `work` never ran
    const served = opening.opened !== undefined || opening.settled !== undefined;
    if (!broken && served && database.visitedSchema(client, tenant.schema_name)) broken = RETIRED;
    client.release(broken);
  }
};

/** Releasing with this closes the connection: it has cached the catalog of enough schemas (Database.visitedSchema). */
const RETIRED = new Error('the connection served its share of tenant schemas');

class EndedTransactionGuard implements KyselyPlugin {
  ended = false;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.ended) throw new Error('tenant data accessed after its transaction ended');
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
