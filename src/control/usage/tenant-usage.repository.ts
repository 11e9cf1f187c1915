import { sql, type Kysely } from 'kysely';
import type { ControlDatabase } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { assertTenantSchemaName } from '../../db/identifiers.js';
import { totalRelationSize } from '../../db/relation-size.js';

type Db = Kysely<ControlDatabase>;

export interface UsageIncrement {
  readonly tenantId: string;
  /** The UTC day (YYYY-MM-DD) the requests were served on. */
  readonly day: string;
  readonly requests: number;
  readonly errors: number;
  readonly lastRequestAt: Date;
}

/**
 * Adds one flush's counts to each tenant's row for their day, in one
 * statement for all tenants. Rows of tenants purged meanwhile are skipped
 * rather than failing the others.
 */
export async function addUsage(db: Db, increments: readonly UsageIncrement[]): Promise<void> {
  if (increments.length === 0) return;
  await sql`
    INSERT INTO control.tenant_usage_daily (tenant_id, day, requests, errors, last_request_at)
    SELECT u.tenant_id, u.day, u.requests, u.errors, u.last_request_at
    FROM unnest(${increments.map((i) => i.tenantId)}::uuid[], ${increments.map((i) => i.day)}::date[], ${increments.map((i) => i.requests)}::bigint[],
                ${increments.map((i) => i.errors)}::bigint[], ${increments.map((i) => i.lastRequestAt.toISOString())}::timestamptz[])
         AS u (tenant_id, day, requests, errors, last_request_at)
    WHERE EXISTS (SELECT 1 FROM control.tenants t WHERE t.id = u.tenant_id)
    ON CONFLICT (tenant_id, day) DO UPDATE
      SET requests = tenant_usage_daily.requests + excluded.requests,
          errors = tenant_usage_daily.errors + excluded.errors,
          last_request_at = greatest(tenant_usage_daily.last_request_at, excluded.last_request_at)
  `.execute(db);
}

export interface RequestUsage {
  readonly requestsToday: number;
  readonly requestsLast30Days: number;
  readonly errorsLast30Days: number;
  readonly lastActivityAt: Date | null;
}

export async function readRequestUsage(db: Db, tenantId: string): Promise<RequestUsage> {
  const row = await sql<{ today: string | null; month: string | null; errors: string | null; last: Date | null }>`
    SELECT sum(requests) FILTER (WHERE day = (now() AT TIME ZONE 'utc')::date) AS today,
           sum(requests) FILTER (WHERE day > (now() AT TIME ZONE 'utc')::date - 30) AS month,
           sum(errors) FILTER (WHERE day > (now() AT TIME ZONE 'utc')::date - 30) AS errors,
           max(last_request_at) AS last
    FROM control.tenant_usage_daily WHERE tenant_id = ${tenantId}
  `.execute(db);
  const usage = row.rows[0]!;
  return {
    requestsToday: Number(usage.today ?? 0),
    requestsLast30Days: Number(usage.month ?? 0),
    errorsLast30Days: Number(usage.errors ?? 0),
    lastActivityAt: usage.last,
  };
}

/** Tenants with at least one request since `since`. */
export async function countActiveTenants(db: Db, since: Date): Promise<number> {
  const row = await sql<{ n: string }>`
    SELECT count(DISTINCT u.tenant_id) AS n FROM control.tenant_usage_daily u JOIN control.tenants t ON t.id = u.tenant_id
    WHERE u.last_request_at >= ${since} AND t.status <> 'deleted'
  `.execute(db);
  return Number(row.rows[0]!.n);
}

export interface TableUsage {
  readonly table: string;
  readonly rows: number;
  /** Total relation size: heap, indexes and TOAST (on the workers under Citus). */
  readonly bytes: number;
}

export interface SchemaUsage {
  /** Every table but the migration ledger. */
  readonly tables: readonly TableUsage[];
  /** The sum of the tables' total relation sizes, the ledger included. */
  readonly storageBytes: number;
}

/**
 * Exact row counts and sizes of the tables of one tenant schema, in two
 * round trips. Table names come from the catalog and are quoted; the schema
 * name is checked against the allowlist.
 */
export async function readSchemaUsage(db: Db, engine: Pick<Database, 'citusVersion'>, schemaName: string): Promise<SchemaUsage> {
  const schema = assertTenantSchemaName(schemaName);
  const tables = await sql<{ table: string; bytes: string }>`
    SELECT c.relname AS table, ${totalRelationSize(engine, 'c.oid')} AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
  `.execute(db);
  const storageBytes = tables.rows.reduce((sum, t) => sum + Number(t.bytes), 0);
  const data = tables.rows.filter((t) => t.table !== 'schema_migrations');
  if (data.length === 0) return { tables: [], storageBytes };
  const counts = await sql<{ table: string; rows: string }>`${sql.join(
    data.map((t) => sql`SELECT ${t.table}::text AS table, count(*) AS rows FROM ${sql.id(schema, t.table)}`),
    sql` UNION ALL `,
  )}`.execute(db);
  const rowsByTable = new Map(counts.rows.map((row) => [row.table, Number(row.rows)]));
  return { tables: data.map((t) => ({ table: t.table, rows: rowsByTable.get(t.table) ?? 0, bytes: Number(t.bytes) })), storageBytes };
}

export interface RequestDay {
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  readonly requests: number;
  readonly errors: number;
}

/** Requests and errors per UTC day over the last `days` days, oldest first, days without requests included; one tenant's or the fleet's. */
export async function readRequestsByDay(db: Db, days: number, tenantId?: string): Promise<RequestDay[]> {
  const rows = await sql<{ day: string; requests: string; errors: string }>`
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(sum(u.requests), 0) AS requests, coalesce(sum(u.errors), 0) AS errors
    FROM generate_series((now() AT TIME ZONE 'utc')::date - ${days - 1}::int, (now() AT TIME ZONE 'utc')::date, interval '1 day') AS d (day)
    LEFT JOIN control.tenant_usage_daily u ON u.day = d.day::date ${tenantId === undefined ? sql`` : sql`AND u.tenant_id = ${tenantId}`}
    GROUP BY d.day ORDER BY d.day
  `.execute(db);
  return rows.rows.map((row) => ({ day: row.day, requests: Number(row.requests), errors: Number(row.errors) }));
}

/** The live tenants with the most requests over the last 30 days. */
export async function topTenantsByRequests(db: Db, limit: number): Promise<{ tenantId: string; value: number }[]> {
  const rows = await sql<{ tenant_id: string; value: string }>`
    SELECT u.tenant_id, sum(u.requests) AS value
    FROM control.tenant_usage_daily u JOIN control.tenants t ON t.id = u.tenant_id AND t.status <> 'deleted'
    WHERE u.day > (now() AT TIME ZONE 'utc')::date - 30
    GROUP BY u.tenant_id ORDER BY value DESC, u.tenant_id LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((row) => ({ tenantId: row.tenant_id, value: Number(row.value) }));
}

/**
 * The live tenants whose schemas take the most disk, tables and indexes, as
 * the catalog estimates it (pg_class.relpages, kept by VACUUM and ANALYZE,
 * which autovacuum runs): one catalog read that takes no lock and opens no
 * file, where measuring each relation would stat every file of every tenant
 * (about a million at 10,000 tenants) and wait behind any migration's lock.
 * Plain PostgreSQL only: on Citus the shards live on the workers.
 */
export async function topTenantsByStorage(db: Db, limit: number): Promise<{ tenantId: string; value: number }[]> {
  const rows = await sql<{ tenant_id: string; value: string }>`
    SELECT t.id AS tenant_id, sum(c.relpages)::bigint * current_setting('block_size')::bigint AS value
    FROM control.tenants t
    JOIN pg_namespace n ON n.nspname = t.schema_name
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'm', 'i')
    WHERE t.status <> 'deleted'
    GROUP BY t.id ORDER BY value DESC, t.id LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((row) => ({ tenantId: row.tenant_id, value: Number(row.value) }));
}
