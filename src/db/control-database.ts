import type { ColumnType, Generated, Selectable } from 'kysely';
import type {
  ControlFleetAnalytics,
  ControlPlans,
  ControlPlatformAuth,
  ControlTenantAuth,
  ControlTenants,
  ControlTenantUsageDaily,
  DB,
} from './control-tables.generated.js';
import type { OverrideColumns } from './override-columns.js';

// The tables come from control-tables.generated.ts (`npm run db:types`); this
// file adds only what SQL cannot say. Each value set below is the one list
// behind its SQL CHECK (test/db/value-sets.test.ts compares them), its
// TypeScript type and its GraphQL enum.
export const TENANT_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** What a deleted tenant was before, so restore puts it back as it was. */
export const RESTORABLE_TENANT_STATUSES = ['active', 'suspended'] as const satisfies readonly TenantStatus[];
export type RestorableTenantStatus = (typeof RESTORABLE_TENANT_STATUSES)[number];

/** A plans.name: plans are rows (control migration 0004), so any name an operator adds is valid. */
export type TenantPlan = string;

/** Features a plan can switch on. */
export const PLAN_FEATURES = ['workflows'] as const;
export type PlanFeature = (typeof PLAN_FEATURES)[number];

/** Filled by the database (default or trigger); callers never write it. */
type SetByDatabase<Update = never> = ColumnType<Date, never, Update>;

/** NULL is unlimited. bigint comes back from pg as a string. */
export interface PlansTable extends OverrideColumns<ControlPlans, { features: Generated<PlanFeature[]> }> {}

export interface TenantsTable
  extends OverrideColumns<
    ControlTenants,
    {
      status: Generated<TenantStatus>;
      deleted_at: ColumnType<Date | null, never, Date | null>;
      status_before_delete: ColumnType<RestorableTenantStatus | null, never, RestorableTenantStatus | null>;
      created_at: SetByDatabase;
      updated_at: SetByDatabase<Date | string>;
    }
  > {}

export interface TenantAuthTable extends ControlTenantAuth {}

/** Rows are upserted with counts to add, never updated column by column. */
export interface TenantUsageDailyTable
  extends OverrideColumns<ControlTenantUsageDaily, { requests: ColumnType<string, number, never>; errors: ColumnType<string, number, never> }> {}

export interface PlatformAuthTable
  extends OverrideColumns<ControlPlatformAuth, { singleton: ColumnType<boolean, never, never>; rotated_at: SetByDatabase<Date | string> }> {}

/** One row per analytics run, written once; the jsonb columns are sent as JSON text. */
export interface FleetAnalyticsTable
  extends OverrideColumns<
    ControlFleetAnalytics,
    {
      computed_at: SetByDatabase;
      deployments_by_status: ColumnType<Record<string, number>, string, never>;
      workflows_by_status: ColumnType<Record<string, number>, string, never>;
      growth: ColumnType<GrowthDay[], string, never>;
    }
  > {}

/** One day of fleet growth; counts only. */
export interface GrowthDay {
  readonly day: string;
  readonly tenantsCreated: number;
  readonly deploymentsCreated: number;
  readonly usersCreated: number;
}

/** Tables of the `control` schema, named with their schema as Kysely allows. */
export interface ControlDatabase
  extends OverrideColumns<
    DB,
    {
      'control.tenants': TenantsTable;
      'control.tenant_auth': TenantAuthTable;
      'control.plans': PlansTable;
      'control.tenant_usage_daily': TenantUsageDailyTable;
      'control.platform_auth': PlatformAuthTable;
      'control.fleet_analytics': FleetAnalyticsTable;
    }
  > {}

export type TenantAuth = Selectable<TenantAuthTable>;

export type Tenant = Selectable<TenantsTable>;
