import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Tenant } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { assertTenantSchemaName, quoteIdentifier } from '../db/identifiers.js';
import type { TenantDatabase } from '../db/tenant-database.js';
import { StatementBudget, type StatementLimits } from './statement-budget.js';

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
 * The one place a tenant scope is set. One pooled connection, one transaction:
 * BEGIN, search_path := the tenant schema alone (public is not on it) and
 * role := the tenant role, sent together in one round trip. Both settings are
 * set_config(…, true), i.e. SET LOCAL, so they end with the transaction and
 * never reach the next user of the connection. Statement and idle timeouts
 * are set the same way, so a runaway query cannot hold a connection.
 *
 * Commits when `work` resolves and rolls back when it throws. A connection
 * that cannot even roll back is released as broken, so the pool destroys it.
 */
export const withTenantTransaction: TenantScope = async (database, tenant, options, work) => {
  const schema = assertTenantSchemaName(tenant.schema_name);
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    // Simple-protocol multi-statement: no parameters, so the (allowlisted) names are literals.
    const statementTimeout = Math.trunc(options.statementTimeoutMs ?? 5_000);
    const idleTimeout = Math.trunc(options.idleTimeoutMs ?? 10_000);
    await client.query(
      `${options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN'}; ` +
        `SELECT set_config('search_path', ${pg.escapeLiteral(quoteIdentifier(schema))}, true), set_config('role', ${pg.escapeLiteral(schema)}, true), ` +
        `set_config('statement_timeout', '${statementTimeout}', true), set_config('idle_in_transaction_session_timeout', '${idleTimeout}', true)`,
    );
    const result = await work(database.bindClient(client, options.limits && new StatementBudget(client, options.limits)));
    // COMMIT of an aborted transaction "succeeds" as ROLLBACK. For a read that
    // loses nothing (the failed statement's error is already in the result);
    // for a write it must not pass for success.
    const commit = await client.query('COMMIT');
    if (commit.command !== 'COMMIT' && !options.readOnly) {
      throw new Error('the tenant transaction was aborted by an earlier error and rolled back');
    }
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    client.release(broken);
  }
};
