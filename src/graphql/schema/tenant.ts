import { DEFAULT_MAX_STREAMS_PER_TENANT } from '../../realtime/row-change-feed.js';
import type { Plan } from '../../control/plans/plan.repository.js';
import { readTenantStats, type TenantStats } from '../../data/stats/tenant-stats.repository.js';
import type { Tenant } from '../../db/control-database.js';
import { builder } from '../builder.js';
import { DeploymentStatus } from './deployment.js';

const StatusCount = builder.objectRef<TenantStats['deploymentsByStatus'][number]>('DeploymentStatusCount').implement({
  fields: (t) => ({ status: t.field({ type: DeploymentStatus, resolve: (s) => s.status }), count: t.exposeInt('count') }),
});

const TenantStatsRef = builder.objectRef<TenantStats>('TenantStats').implement({
  fields: (t) => ({
    users: t.exposeInt('users'),
    projects: t.exposeInt('projects'),
    workflows: t.exposeInt('workflows'),
    deployments: t.exposeInt('deployments'),
    deploymentsByStatus: t.field({ type: [StatusCount], resolve: (s) => [...s.deploymentsByStatus] }),
  }),
});

const PlanLimitsRef = builder.objectRef<Plan>('PlanLimits').implement({
  description: "The limits of the tenant's plan; null is unlimited.",
  fields: (t) => ({
    maxUsers: t.exposeInt('maxUsers', { nullable: true, description: 'Users, invited ones included.' }),
    maxStorageBytes: t.expose('maxStorageBytes', { type: 'SafeInt', nullable: true, description: 'Over it, writes are refused (QUOTA_EXCEEDED).' }),
    requestsPerMinute: t.exposeInt('requestsPerMinute'),
    requestsPerDay: t.exposeInt('requestsPerDay', { nullable: true }),
    maxSubscriptions: t.exposeInt('maxSubscriptions', {
      nullable: true,
      description: `Subscriptions open at once on one server; past it, TOO_MANY_SUBSCRIPTIONS. Null: the server cap (${DEFAULT_MAX_STREAMS_PER_TENANT}).`,
    }),
    deploymentsPerHour: t.exposeInt('deploymentsPerHour', { nullable: true, description: 'Deployments created per hour; past it, createDeployment answers RATE_LIMITED (429, Retry-After).' }),
    workflowsPerHour: t.exposeInt('workflowsPerHour', { nullable: true, description: 'Workflows created per hour; past it, createWorkflow answers RATE_LIMITED (429, Retry-After).' }),
    features: t.stringList({
      description: 'Features the plan includes, such as "workflows"; fields of other features answer FEATURE_NOT_IN_PLAN.',
      resolve: (plan) => [...plan.features],
    }),
  }),
});

const SettingRef = builder.objectRef<{ readonly key: string; readonly value: string }>('TenantSetting').implement({
  description: "One of the tenant's settings, as the platform's operators set them.",
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

const TenantRef = builder.objectRef<Tenant>('Tenant').implement({
  description: 'The tenant this request runs in.',
  fields: (t) => ({
    id: t.field({ type: 'UUID', resolve: (tenant) => tenant.id }),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    plan: t.exposeString('plan'),
    limits: t.field({ type: PlanLimitsRef, resolve: (_tenant, _args, context) => context.plan }),
    stats: t.field({ type: TenantStatsRef, resolve: (_tenant, _args, context) => readTenantStats(context.db) }),
    settings: t.field({
      type: [SettingRef],
      authScopes: { admin: true },
      description: 'The plain settings (feature toggles and the like), ordered by key; secret settings are never shown here. Admins only.',
      resolve: async (_tenant, _args, context) => [...(await context.plainSettings())],
    }),
  }),
});

builder.queryField('tenant', (t) => t.field({ type: TenantRef, resolve: (_root, _args, context) => context.tenant }));
