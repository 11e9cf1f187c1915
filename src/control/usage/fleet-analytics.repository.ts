import { sql, type Kysely } from 'kysely';
import type { ControlDatabase, GrowthDay } from '../../db/control-database.js';
import { assertTenantSchemaName } from '../../db/identifiers.js';

type Db = Kysely<ControlDatabase>;

export interface FleetCounts {
  readonly deploymentsByStatus: Record<string, number>;
  readonly workflowsByStatus: Record<string, number>;
  /** day (YYYY-MM-DD) → rows created that day, since the window start. */
  readonly deploymentsPerDay: Record<string, number>;
  readonly usersPerDay: Record<string, number>;
}

type CountRow = { kind: 'deployment_status' | 'workflow_status' | 'deployments_day' | 'users_day'; key: string; n: string };

/**
 * Aggregates of many tenant schemas in ONE statement: a UNION ALL of small
 * GROUP BY queries, summed by Postgres. The result is counts only; which
 * schema contributed what never leaves the statement.
 */
export async function countAcrossSchemas(db: Db, schemaNames: readonly string[], since: Date): Promise<FleetCounts> {
  const counts: FleetCounts = { deploymentsByStatus: {}, workflowsByStatus: {}, deploymentsPerDay: {}, usersPerDay: {} };
  if (schemaNames.length === 0) return counts;
  const parts = schemaNames.map((name) => {
    const schema = assertTenantSchemaName(name);
    const deployments = sql.id(schema, 'deployments');
    const workflows = sql.id(schema, 'workflows');
    const users = sql.id(schema, 'users');
    return sql`SELECT 'deployment_status' AS kind, status AS key, count(*) AS n FROM ${deployments} GROUP BY status
      UNION ALL SELECT 'workflow_status', status, count(*) FROM ${workflows} GROUP BY status
      UNION ALL SELECT 'deployments_day', to_char(created_at AT TIME ZONE 'utc', 'YYYY-MM-DD'), count(*) FROM ${deployments} WHERE created_at >= ${since} GROUP BY 2
      UNION ALL SELECT 'users_day', to_char(created_at AT TIME ZONE 'utc', 'YYYY-MM-DD'), count(*) FROM ${users} WHERE created_at >= ${since} GROUP BY 2`;
  });
  const result = await sql<CountRow>`SELECT kind, key, sum(n) AS n FROM (${sql.join(parts, sql` UNION ALL `)}) AS fleet GROUP BY kind, key`.execute(db);
  const target = { deployment_status: counts.deploymentsByStatus, workflow_status: counts.workflowsByStatus, deployments_day: counts.deploymentsPerDay, users_day: counts.usersPerDay };
  for (const row of result.rows) target[row.kind][row.key] = Number(row.n);
  return counts;
}

/**
 * Those of `schemaNames` whose three counted tables exist now. A tenant purged
 * (or still being provisioned) after the fleet was listed would otherwise fail
 * a whole batch with "relation does not exist".
 */
export async function schemasWithCountedTables(db: Db, schemaNames: readonly string[]): Promise<string[]> {
  const result = await sql<{ schema: string }>`
    SELECT s AS schema FROM unnest(${[...schemaNames]}::text[]) AS s
    WHERE to_regclass(quote_ident(s) || '.deployments') IS NOT NULL
      AND to_regclass(quote_ident(s) || '.workflows') IS NOT NULL
      AND to_regclass(quote_ident(s) || '.users') IS NOT NULL
  `.execute(db);
  return result.rows.map((row) => row.schema);
}

/** Tenants created per day (UTC) since `since`, from the registry. */
export async function countTenantsCreatedPerDay(db: Db, since: Date): Promise<Record<string, number>> {
  const result = await sql<{ day: string; n: string }>`
    SELECT to_char(created_at AT TIME ZONE 'utc', 'YYYY-MM-DD') AS day, count(*) AS n FROM control.tenants WHERE created_at >= ${since} GROUP BY 1
  `.execute(db);
  return Object.fromEntries(result.rows.map((row) => [row.day, Number(row.n)]));
}

export interface FleetAnalyticsSnapshot {
  readonly computedAt: Date;
  readonly durationMs: number;
  readonly tenantsScanned: number;
  readonly deploymentsByStatus: Record<string, number>;
  readonly workflowsByStatus: Record<string, number>;
  readonly growth: readonly GrowthDay[];
}

export async function insertSnapshot(db: Db, snapshot: Omit<FleetAnalyticsSnapshot, 'computedAt'>): Promise<FleetAnalyticsSnapshot> {
  const row = await db
    .insertInto('control.fleet_analytics')
    .values({
      duration_ms: Math.round(snapshot.durationMs),
      tenants_scanned: snapshot.tenantsScanned,
      deployments_by_status: JSON.stringify(snapshot.deploymentsByStatus),
      workflows_by_status: JSON.stringify(snapshot.workflowsByStatus),
      growth: JSON.stringify(snapshot.growth),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSnapshot(row);
}

export async function findLatestSnapshot(db: Db): Promise<FleetAnalyticsSnapshot | undefined> {
  const row = await db.selectFrom('control.fleet_analytics').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row && toSnapshot(row);
}

function toSnapshot(row: {
  computed_at: Date;
  duration_ms: number;
  tenants_scanned: number;
  deployments_by_status: Record<string, number>;
  workflows_by_status: Record<string, number>;
  growth: GrowthDay[];
}): FleetAnalyticsSnapshot {
  return {
    computedAt: row.computed_at,
    durationMs: row.duration_ms,
    tenantsScanned: row.tenants_scanned,
    deploymentsByStatus: row.deployments_by_status,
    workflowsByStatus: row.workflows_by_status,
    growth: row.growth,
  };
}
