import type { ColumnType, Generated, Selectable } from 'kysely';

export type TenantStatus = 'active' | 'suspended' | 'deleted';
export type TenantPlan = 'basic' | 'premium' | 'enterprise' | 'custom';

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  status: ColumnType<TenantStatus, TenantStatus | undefined, TenantStatus>;
  plan: ColumnType<TenantPlan, TenantPlan | undefined, TenantPlan>;
  schema_name: string;
  template_version: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date | string>;
}

/** Tables of the `control` schema, named with their schema as Kysely allows. */
export interface ControlDatabase {
  'control.tenants': TenantsTable;
}

export type Tenant = Selectable<TenantsTable>;
