import type { FleetOverview, TenantUsage } from '../control/usage/tenant-usage.service.js';
import type { Tenant } from '../db/control-database.js';
import { formatBytes } from '../format-bytes.js';

/** How `npm run tenant` prints what the tenant services return. */

export function printLifecycle(done: string, tenant: Tenant): void {
  console.log(`tenant ${tenant.slug}: ${done}; status ${tenant.status}`);
}

export function printUsage(usage: TenantUsage): void {
  const { tenant, health, requests } = usage;
  console.log(`${tenant.slug} ("${tenant.name}"): ${tenant.status}, plan ${tenant.plan}, schema ${tenant.schema_name}`);
  console.log(
    `  template version ${health.templateVersion} of ${health.latestVersion}${health.behind ? ' (behind: npm run migrate)' : ''}; ` +
      `drift: ${health.drift.length === 0 ? 'none' : health.drift.map((d) => `${d.file}: ${d.problem}`).join('; ')}`,
  );
  console.log(`  storage ${formatBytes(usage.storageBytes)}; requests today ${requests.requestsToday}, last 30 days ${requests.requestsLast30Days} (${requests.errorsLast30Days} failed)`);
  console.log(`  last activity ${requests.lastActivityAt?.toISOString() ?? 'never'}`);
  if (usage.citusNodes !== undefined) {
    console.log(`  Citus: ${usage.citusNodes.length > 0 ? `on ${usage.citusNodes.join(', ')}` : 'not distributed (on the coordinator)'}`);
  }
  console.table(usage.tables.map((t) => ({ table: t.table, rows: t.rows, size: formatBytes(t.bytes) })));
}

export function printFleet(fleet: FleetOverview): void {
  const line = (rows: readonly { value: string; count: number }[]) => rows.map((r) => `${r.value} ${r.count}`).join(', ') || 'none';
  console.log(`${fleet.total} tenants; ${fleet.activeLast7Days} active in the last 7 days`);
  console.log(`  by status:  ${line(fleet.byStatus)}`);
  console.log(`  by plan:    ${line(fleet.byPlan)}`);
  console.log(`  by version: ${line(fleet.byVersion)} (template head ${fleet.latestVersion})`);
}
