import type { FleetOverview, TenantUsage } from '../control/usage/tenant-usage.service.js';
import type { Tenant } from '../db/control-database.js';
import type { Plan } from '../control/plans/plan.repository.js';
import { formatBytes } from '../format-bytes.js';
import { DEFAULT_MAX_STREAMS_PER_TENANT } from '../realtime/row-change-feed.js';
import { counted, formatTable } from './table.js';

/** How `npm run tenant` prints what the tenant services return. */

/** `before` is the tenant as it was: an operation that found its state already reached says so. */
export function printLifecycle(done: string, tenant: Tenant, before?: Tenant): void {
  if (before?.status === tenant.status) {
    console.log(`tenant ${tenant.slug}: already ${tenant.status}, nothing changed`);
  } else console.log(`tenant ${tenant.slug}: ${done}; status ${tenant.status}`);
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
  console.log(formatTable(usage.tables.map((t) => ({ table: t.table, rows: t.rows, size: formatBytes(t.bytes) }))));
}

export function printFleet(fleet: FleetOverview): void {
  const line = (rows: readonly { value: string; count: number }[], name: (value: string) => string) =>
    rows.map((r) => `${name(r.value)}: ${counted(r.count, 'tenant')}`).join(', ') || 'none';
  console.log(`${counted(fleet.total, 'tenant')}; ${fleet.activeLast7Days} active in the last 7 days`);
  console.log(`  by status:  ${line(fleet.byStatus, (status) => status)}`);
  console.log(`  by plan:    ${line(fleet.byPlan, (plan) => plan)}`);
  console.log(`  by version: ${line(fleet.byVersion, (version) => `v${version}`)} (template head v${fleet.latestVersion})`);
}

export function printPlans(plans: readonly Plan[]): void {
  const limit = (value: number | null, format: (n: number) => string = (n) => n.toLocaleString('en-US')) => (value === null ? 'unlimited' : format(value));
  console.log(
    formatTable(
      plans.map((p) => ({
        plan: p.name,
        users: limit(p.maxUsers),
        storage: limit(p.maxStorageBytes, (n) => formatBytes(n)),
        'requests/min': limit(p.requestsPerMinute),
        'requests/day': limit(p.requestsPerDay),
        subscriptions: p.maxSubscriptions === null ? `server cap (${DEFAULT_MAX_STREAMS_PER_TENANT})` : limit(p.maxSubscriptions),
        features: p.features.join(', ') || 'none',
      })),
      { right: ['users', 'storage', 'requests/min', 'requests/day', 'subscriptions'] },
    ),
  );
}
