import type { Kysely, Selectable } from 'kysely';
import type { ControlDatabase, PlanFeature, PlansTable } from '../../db/control-database.js';

type Db = Kysely<ControlDatabase>;

/** A plan's limits (control.plans); null means unlimited. */
export interface Plan {
  readonly name: string;
  readonly maxUsers: number | null;
  readonly maxStorageBytes: number | null;
  readonly requestsPerMinute: number;
  readonly requestsPerDay: number | null;
  /** Subscriptions the tenant may hold open at once on one server; null: the server's own per-tenant cap. */
  readonly maxSubscriptions: number | null;
  /** Deployments the tenant may create per hour; null: no limit. */
  readonly deploymentsPerHour: number | null;
  /** Workflows the tenant may create per hour; null: no limit. */
  readonly workflowsPerHour: number | null;
  readonly features: readonly PlanFeature[];
}

export async function listPlans(db: Db): Promise<Plan[]> {
  const rows = await db.selectFrom('control.plans').selectAll().orderBy('requests_per_minute').orderBy('name').execute();
  return rows.map(toPlan);
}

export async function findPlan(db: Db, name: string): Promise<Plan | undefined> {
  const row = await db.selectFrom('control.plans').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toPlan(row);
}

function toPlan(row: Selectable<PlansTable>): Plan {
  return {
    name: row.name,
    maxUsers: row.max_users,
    maxStorageBytes: row.max_storage_bytes === null ? null : Number(row.max_storage_bytes),
    requestsPerMinute: row.requests_per_minute,
    requestsPerDay: row.requests_per_day,
    maxSubscriptions: row.max_subscriptions,
    deploymentsPerHour: row.deployments_per_hour,
    workflowsPerHour: row.workflows_per_hour,
    features: row.features,
  };
}
