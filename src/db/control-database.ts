import type { ColumnType, Generated, Selectable } from 'kysely';

export type TenantStatus = 'active' | 'suspended' | 'deleted';
/** A plans.name: plans are rows (control migration 0004), so any name an operator adds is valid. */
export type TenantPlan = string;

/** Features a plan can switch on; the plans table's CHECK holds the same list. */
const PLAN_FEATURES = ['workflows'] as const;
export type PlanFeature = (typeof PLAN_FEATURES)[number];

/** NULL is unlimited. bigint comes back from pg as a string. */
export interface PlansTable {
  name: string;
  max_users: number | null;
  max_storage_bytes: ColumnType<string | null, number | string | null | undefined, number | string | null>;
  requests_per_minute: number;
  requests_per_day: number | null;
  features: ColumnType<PlanFeature[], PlanFeature[] | undefined, PlanFeature[]>;
}

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  plan: ColumnType<TenantPlan, TenantPlan | undefined, TenantPlan>;
  schema_name: string;
  template_version: ColumnType<number, number | undefined, number>;
  deleted_at: ColumnType<Date | null, never, Date | null>;
  status_before_delete: ColumnType<'active' | 'suspended' | null, never, 'active' | 'suspended' | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date | string>;
}

export interface TenantAuthTable {
  tenant_id: string;
  hmac_secret: string;
  jwks_url: string | null;
  public_key: string | null;
  idp_issuer: string | null;
  idp_audience: string | null;
  idp_algorithms: ColumnType<string[], string[] | undefined, string[]>;
  rotated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TenantUsageDailyTable {
  tenant_id: string;
  day: string;
  requests: ColumnType<string, number, never>;
  errors: ColumnType<string, number, never>;
  last_request_at: Date;
}

export interface PlatformAuthTable {
  singleton: ColumnType<boolean, never, never>;
  hmac_secret: string;
  rotated_at: ColumnType<Date, never, Date | string>;
}

export interface FleetAnalyticsTable {
  id: Generated<string>;
  computed_at: ColumnType<Date, never, never>;
  duration_ms: number;
  tenants_scanned: number;
  deployments_by_status: ColumnType<Record<string, number>, string, never>;
  workflows_by_status: ColumnType<Record<string, number>, string, never>;
  growth: ColumnType<GrowthDay[], string, never>;
}

/** One day of fleet growth; counts only. */
export interface GrowthDay {
  readonly day: string;
  readonly tenantsCreated: number;
  readonly deploymentsCreated: number;
  readonly usersCreated: number;
}

/** Tables of the `control` schema, named with their schema as Kysely allows. */
export interface ControlDatabase {
  'control.tenants': TenantsTable;
  'control.tenant_auth': TenantAuthTable;
  'control.plans': PlansTable;
  'control.tenant_usage_daily': TenantUsageDailyTable;
  'control.platform_auth': PlatformAuthTable;
  'control.fleet_analytics': FleetAnalyticsTable;
}

export type TenantAuth = Selectable<TenantAuthTable>;

export type Tenant = Selectable<TenantsTable>;
