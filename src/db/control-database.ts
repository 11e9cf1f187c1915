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

/** Tables of the `control` schema, named with their schema as Kysely allows. */
export interface ControlDatabase {
  'control.tenants': TenantsTable;
  'control.tenant_auth': TenantAuthTable;
}

export type TenantAuth = Selectable<TenantAuthTable>;

export type Tenant = Selectable<TenantsTable>;
