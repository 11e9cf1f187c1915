import { sql } from 'kysely';
import type { TenantDb } from '../../tenancy/tenant-transaction.js';

/**
 * Bytes the tenant's schema occupies: pg_total_relation_size (heap, indexes,
 * TOAST) summed over its tables, as the admin usage report counts it. It
 * reads only the catalog, so the tenant role can run it on its own schema
 * (current_schema() is the tenant's inside the tenant transaction).
 */
export async function readStorageBytes(db: TenantDb): Promise<number> {
  const result = await sql<{ bytes: string }>`
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  `.execute(db);
  return Number(result.rows[0]!.bytes);
}
