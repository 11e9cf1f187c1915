import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import type { DriftProblem } from '../../migrations/drift.js';
import { readExistingLedgers, tenantDrift } from '../fleet/migration-status.js';
import type { Template } from '../../migrations/template.js';
import { countTenantsBy } from '../registry/tenant.repository.js';
import { readCitusPlacement } from '../tenants/citus-placement.repository.js';
import { countActiveTenants, readRequestUsage, readSchemaUsage, type RequestUsage, type TableUsage } from './tenant-usage.repository.js';

export interface TenantHealth {
  readonly templateVersion: number;
  readonly latestVersion: number;
  readonly behind: boolean;
  readonly drift: readonly DriftProblem[];
}

export interface TenantUsage {
  readonly tenant: Tenant;
  readonly tables: readonly TableUsage[];
  readonly storageBytes: number;
  readonly requests: RequestUsage;
  readonly health: TenantHealth;
  /** On Citus, the nodes (`host:port`) that hold the tenant's tables; undefined elsewhere. */
  readonly citusNodes: readonly string[] | undefined;
}

/** One tenant's usage and health, read live: exact row counts, storage, request counts, version and drift. */
export async function tenantUsage(database: Database, template: Template, tenant: Tenant): Promise<TenantUsage> {
  const [schema, requests, ledgers, citusNodes] = await Promise.all([
    readSchemaUsage(database.control, database, tenant.schema_name),
    readRequestUsage(database.control, tenant.id),
    readExistingLedgers(database, [tenant.schema_name]),
    readCitusPlacement(database.control, database, tenant.schema_name),
  ]);
  return {
    tenant,
    tables: schema.tables,
    storageBytes: schema.storageBytes,
    requests,
    citusNodes,
    health: {
      templateVersion: tenant.template_version,
      latestVersion: template.latestVersion,
      behind: tenant.status !== 'deleted' && tenant.template_version < template.latestVersion,
      drift: tenantDrift(template, tenant, ledgers.get(tenant.schema_name)),
    },
  };
}

export interface FleetOverview {
  readonly total: number;
  readonly byStatus: readonly { value: string; count: number }[];
  readonly byPlan: readonly { value: string; count: number }[];
  readonly byVersion: readonly { value: string; count: number }[];
  readonly latestVersion: number;
  /** Tenants with a request in the last 7 days. */
  readonly activeLast7Days: number;
}

/** Counts from the registry and the usage table only: no tenant schema is opened. */
export async function fleetOverview(database: Database, template: Template): Promise<FleetOverview> {
  const [byStatus, byPlan, byVersion, activeLast7Days] = await Promise.all([
    countTenantsBy(database.control, 'status'),
    countTenantsBy(database.control, 'plan'),
    countTenantsBy(database.control, 'template_version'),
    countActiveTenants(database.control, new Date(Date.now() - 7 * 86_400_000)),
  ]);
  return {
    total: byStatus.reduce((sum, row) => sum + row.count, 0),
    byStatus,
    byPlan,
    byVersion,
    latestVersion: template.latestVersion,
    activeLast7Days,
  };
}
