import { sql, type Transaction } from 'kysely';
import type { Tenant } from '../db/control-database.js';
import type { Database } from '../db/database.js';
import { assertTenantSchemaName, quoteIdentifier } from '../db/identifiers.js';
import type { TenantDatabase } from '../db/tenant-database.js';

export type TenantTransaction = Transaction<TenantDatabase>;

export interface TenantTransactionOptions {
  /** Reads run READ ONLY, so a query path can never write by accident. */
  readonly readOnly?: boolean;
}

/**
 * The one place a tenant scope is set. Inside one transaction on one pooled
 * connection, search_path becomes the tenant schema alone (public is not on
 * it) and the role becomes the tenant role; both with set_config(…, true),
 * i.e. SET LOCAL, so they end with the transaction and never leak to the next
 * user of the connection. Commits when `work` resolves, rolls back when it throws.
 */
export async function withTenantTransaction<T>(
  database: Database,
  tenant: Pick<Tenant, 'schema_name'>,
  options: TenantTransactionOptions,
  work: (trx: TenantTransaction) => Promise<T>,
): Promise<T> {
  const schema = assertTenantSchemaName(tenant.schema_name);
  let builder = database.tenant.transaction();
  if (options.readOnly) builder = builder.setAccessMode('read only');
  return builder.execute(async (trx) => {
    await sql`SELECT set_config('search_path', ${quoteIdentifier(schema)}, true), set_config('role', ${schema}, true)`.execute(trx);
    return work(trx);
  });
}
