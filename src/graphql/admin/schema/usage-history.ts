import { findTenantsByIds } from '../../../control/registry/tenant.repository.js';
import { getTenant } from '../../../control/tenants/tenant.service.js';
import { readRequestsByDay, topTenantsByRequests, topTenantsByStorage, type RequestDay } from '../../../control/usage/tenant-usage.repository.js';
import type { Tenant } from '../../../db/control-database.js';
import { inputError } from '../../../errors.js';
import type { AdminOperation } from '../admin-operation-log.js';
import { adminBuilder } from '../builder.js';
import { AdminTenantRef } from './tenant.js';

const RequestDayRef = adminBuilder.objectRef<RequestDay>('RequestDay').implement({
  fields: (t) => ({
    day: t.exposeString('day', { description: 'YYYY-MM-DD (UTC)' }),
    requests: t.expose('requests', { type: 'SafeInt' }),
    errors: t.expose('errors', { type: 'SafeInt', description: 'Operations that answered with an error.' }),
  }),
});

const TenantRankRef = adminBuilder.objectRef<{ tenant: Tenant; value: number }>('TenantRank').implement({
  fields: (t) => ({
    tenant: t.field({ type: AdminTenantRef, resolve: (rank) => rank.tenant }),
    value: t.expose('value', { type: 'SafeInt', description: 'Requests over the last 30 days, or bytes stored.' }),
  }),
});

const RankByEnum = adminBuilder.enumType('TenantRankBy', {
  values: {
    REQUESTS: { description: 'Requests over the last 30 days.' },
    STORAGE: { description: "Bytes of the tenant's tables and indexes as the catalog estimates them (as of the last VACUUM or ANALYZE); none on Citus, whose shards are on the workers (each tenant's usage measures them)." },
  } as const,
});

const AdminOperationRef = adminBuilder.objectRef<AdminOperation>('AdminOperation').implement({
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
    admin: t.exposeString('admin', { description: "The platform token's subject." }),
    operation: t.exposeString('operation'),
    fields: t.exposeStringList('fields'),
    arguments: t.string({ description: "The operation's variables, as JSON.", resolve: (op) => JSON.stringify(op.args) }),
    errorCodes: t.exposeStringList('errorCodes'),
  }),
});

const MAX_DAYS = 90;
const MAX_RANKED = 50;

adminBuilder.queryFields((t) => ({
  requestsByDay: t.field({
    type: [RequestDayRef],
    description: `Requests per UTC day, oldest first, days without any included: the whole fleet's, or one tenant's (at most ${MAX_DAYS} days).`,
    args: { slug: t.arg.string({ required: false }), days: t.arg.int({ required: false, defaultValue: 30 }) },
    resolve: async (_root, args, { database }) => {
      const days = args.days ?? 30;
      if (days < 1 || days > MAX_DAYS) throw inputError('days', `must be between 1 and ${MAX_DAYS}`);
      if (args.slug == null) return readRequestsByDay(database.control, days);
      const tenant = await getTenant(database, args.slug);
      return readRequestsByDay(database.control, days, tenant.id);
    },
  }),
  topTenants: t.field({
    type: [TenantRankRef],
    description: 'The live tenants with the most requests (last 30 days) or the most storage, largest first.',
    args: { by: t.arg({ type: RankByEnum, required: true }), first: t.arg.int({ required: false, defaultValue: 5 }) },
    resolve: async (_root, args, { database }) => {
      const first = args.first ?? 5;
      if (first < 1 || first > MAX_RANKED) throw inputError('first', `must be between 1 and ${MAX_RANKED}`);
      if (args.by === 'STORAGE' && database.citusVersion !== undefined) return [];
      const ranked = await (args.by === 'STORAGE' ? topTenantsByStorage : topTenantsByRequests)(database.control, first);
      const tenants = new Map((await findTenantsByIds(database.control, ranked.map((r) => r.tenantId))).map((tenant) => [tenant.id, tenant]));
      return ranked.flatMap((r) => (tenants.has(r.tenantId) ? [{ tenant: tenants.get(r.tenantId)!, value: r.value }] : []));
    },
  }),
  adminOperations: t.field({
    type: [AdminOperationRef],
    description: "This server's latest admin operations since it started, newest first (the full history, every server's, is in the log).",
    args: { first: t.arg.int({ required: false, defaultValue: 50 }) },
    resolve: (_root, args, { operations }) => {
      const first = args.first ?? 50;
      if (first < 1 || first > 500) throw inputError('first', 'must be between 1 and 500');
      return [...operations.recent(first)];
    },
  }),
}));
