import { DEFAULT_MAX_STREAMS_PER_TENANT } from '../../../realtime/row-change-feed.js';
import { listPlans, type Plan } from '../../../control/plans/plan.repository.js';
import { changeTenantPlan } from '../../../control/tenants/tenant-lifecycle.service.js';
import { adminBuilder } from '../builder.js';
import { AdminTenantRef } from './tenant.js';

const PlanRef = adminBuilder.objectRef<Plan>('Plan').implement({
  description: 'A set of limits, kept in control.plans; null means unlimited.',
  fields: (t) => ({
    name: t.exposeString('name'),
    maxUsers: t.exposeInt('maxUsers', { nullable: true }),
    maxStorageBytes: t.expose('maxStorageBytes', { type: 'SafeInt', nullable: true }),
    requestsPerMinute: t.exposeInt('requestsPerMinute'),
    requestsPerDay: t.exposeInt('requestsPerDay', { nullable: true }),
    maxSubscriptions: t.exposeInt('maxSubscriptions', { nullable: true, description: `Open subscriptions per server; null: the server cap (${DEFAULT_MAX_STREAMS_PER_TENANT} per tenant).` }),
    deploymentsPerHour: t.exposeInt('deploymentsPerHour', { nullable: true, description: 'Deployments a tenant may create per hour; null: no limit.' }),
    workflowsPerHour: t.exposeInt('workflowsPerHour', { nullable: true, description: 'Workflows a tenant may create per hour; null: no limit.' }),
    features: t.stringList({ resolve: (plan) => [...plan.features] }),
  }),
});

adminBuilder.queryField('plans', (t) => t.field({ type: [PlanRef], resolve: (_root, _args, { database }) => listPlans(database.control) }));

adminBuilder.mutationField('changePlan', (t) =>
  t.field({
    type: AdminTenantRef,
    description: "Moves the tenant to another plan; its limits apply from its next request. Usage above the new plan's limits is kept, but further growth is refused.",
    args: { slug: t.arg.string({ required: true }), plan: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => changeTenantPlan(database, args.slug, args.plan),
  }),
);
