import { findLatestSnapshot, type FleetAnalyticsSnapshot } from '../../../control/usage/fleet-analytics.repository.js';
import { refreshFleetAnalytics } from '../../../control/usage/fleet-analytics.service.js';
import { fleetOverview, type FleetOverview } from '../../../control/usage/tenant-usage.service.js';
import type { GrowthDay } from '../../../db/control-database.js';
import { adminBuilder, CountRef, toCounts } from '../builder.js';

const FleetOverviewRef = adminBuilder.objectRef<FleetOverview>('FleetOverview').implement({
  description: 'Tenants by status, plan and template version, from the registry.',
  fields: (t) => ({
    total: t.exposeInt('total'),
    byStatus: t.field({ type: [CountRef], resolve: (f) => [...f.byStatus] }),
    byPlan: t.field({ type: [CountRef], resolve: (f) => [...f.byPlan] }),
    byTemplateVersion: t.field({ type: [CountRef], resolve: (f) => [...f.byVersion] }),
    latestTemplateVersion: t.exposeInt('latestVersion'),
    activeTenantsLast7Days: t.exposeInt('activeLast7Days', { description: 'Tenants with at least one request in the last 7 days.' }),
  }),
});

const GrowthDayRef = adminBuilder.objectRef<GrowthDay>('GrowthDay').implement({
  fields: (t) => ({
    day: t.exposeString('day', { description: 'YYYY-MM-DD (UTC)' }),
    tenantsCreated: t.exposeInt('tenantsCreated'),
    deploymentsCreated: t.exposeInt('deploymentsCreated'),
    usersCreated: t.exposeInt('usersCreated'),
  }),
});

const AnalyticsRef = adminBuilder.objectRef<FleetAnalyticsSnapshot>('FleetAnalytics').implement({
  description: 'Anonymised aggregates over every live tenant: counts only, no tenant ids, names or rows. Precomputed; see computedAt.',
  fields: (t) => ({
    computedAt: t.expose('computedAt', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    tenantsScanned: t.exposeInt('tenantsScanned'),
    deploymentsByStatus: t.field({ type: [CountRef], resolve: (a) => toCounts(a.deploymentsByStatus) }),
    workflowsByStatus: t.field({ type: [CountRef], resolve: (a) => toCounts(a.workflowsByStatus) }),
    growth: t.field({ type: [GrowthDayRef], description: 'The last 30 days, oldest first.', resolve: (a) => [...a.growth] }),
  }),
});

adminBuilder.queryFields((t) => ({
  fleet: t.field({ type: FleetOverviewRef, resolve: (_root, _args, { database, template }) => fleetOverview(database, template) }),
  analytics: t.field({
    type: AnalyticsRef,
    nullable: true,
    description: 'The latest snapshot; null until refreshAnalytics (or npm run analytics) has run once.',
    resolve: async (_root, _args, { database }) => (await findLatestSnapshot(database.control)) ?? null,
  }),
}));

adminBuilder.mutationField('refreshAnalytics', (t) =>
  t.field({
    type: AnalyticsRef,
    description: 'Recomputes the analytics: one aggregate statement per 200 tenant schemas.',
    resolve: (_root, _args, { database }) => refreshFleetAnalytics(database),
  }),
);
