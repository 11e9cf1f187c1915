import { tenantUsage, type TenantUsage } from '../../../control/usage/tenant-usage.service.js';
import type { TableUsage } from '../../../control/usage/tenant-usage.repository.js';
import type { DriftProblem } from '../../../migrations/drift.js';
import { adminBuilder } from '../builder.js';
import { AdminTenantRef } from './tenant.js';

const TableUsageRef = adminBuilder.objectRef<TableUsage>('TableUsage').implement({
  fields: (t) => ({
    table: t.exposeString('table'),
    rows: t.expose('rows', { type: 'SafeInt', description: 'Exact count at the time of the query.' }),
    bytes: t.expose('bytes', { type: 'SafeInt', description: 'Heap, indexes and TOAST (pg_total_relation_size; on Citus, citus_total_relation_size: on the workers).' }),
  }),
});

const DriftRef = adminBuilder.objectRef<DriftProblem>('DriftProblem').implement({
  fields: (t) => ({ file: t.exposeString('file'), problem: t.exposeString('problem') }),
});

const TenantUsageRef = adminBuilder.objectRef<TenantUsage>('TenantUsage').implement({
  description: "A tenant's usage and health, read live.",
  fields: (t) => ({
    tables: t.field({ type: [TableUsageRef], resolve: (usage) => [...usage.tables] }),
    storageBytes: t.expose('storageBytes', { type: 'SafeInt', description: "The sum of the tables' sizes over the schema, the migration ledger included." }),
    citusNodes: t.stringList({
      nullable: true,
      description: 'On a Citus coordinator, the nodes (host:port) holding the tenant schema; null on plain PostgreSQL, empty for a schema Citus did not distribute.',
      resolve: (u) => (u.citusNodes === undefined ? null : [...u.citusNodes]),
    }),
    requestsToday: t.field({ type: 'SafeInt', description: 'Operations executed today (UTC); servers flush counts every 10 s.', resolve: (u) => u.requests.requestsToday }),
    requestsLast30Days: t.field({ type: 'SafeInt', resolve: (u) => u.requests.requestsLast30Days }),
    errorsLast30Days: t.field({ type: 'SafeInt', resolve: (u) => u.requests.errorsLast30Days }),
    lastActivityAt: t.field({ type: 'DateTime', nullable: true, resolve: (u) => u.requests.lastActivityAt }),
    templateVersion: t.int({ resolve: (u) => u.health.templateVersion }),
    latestTemplateVersion: t.int({ resolve: (u) => u.health.latestVersion }),
    behind: t.boolean({ description: 'A live tenant below the template head.', resolve: (u) => u.health.behind }),
    drift: t.field({ type: [DriftRef], description: 'Empty when the schema matches the template files.', resolve: (u) => [...u.health.drift] }),
  }),
});

adminBuilder.objectField(AdminTenantRef, 'usage', (t) =>
  t.field({
    type: TenantUsageRef,
    description: 'Exact counts, read live; on a list, two tenants are measured at a time.',
    resolve: (tenant, _args, { database, template, usageSlot }) => usageSlot(() => tenantUsage(database, template, tenant)),
  }),
);
