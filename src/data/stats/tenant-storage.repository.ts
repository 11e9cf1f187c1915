import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { totalRelationSize } from '../../db/relation-size.js';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';

/**
 * Bytes the tenant's schema occupies: the total relation size (heap, indexes,
 * TOAST, on the workers under Citus) summed over its tables, as the admin usage report counts it. It
 * reads only the catalog, so the tenant role can run it on its own schema
 * (current_schema() is the tenant's inside the tenant transaction).
 */
export async function readStorageBytes(db: TenantDb, engine: Pick<Database, 'citusVersion'>): Promise<number> {
  const result = await sql<{ bytes: string }>`
    SELECT coalesce(sum(${totalRelationSize(engine, 'c.oid')}), 0) AS bytes
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  `.execute(db);
  return Number(result.rows[0]!.bytes);
}
