import { cloneTenant } from '../../../control/transfer/tenant-clone.service.js';
import { createTenant, rotateSigningKey } from '../../../control/tenants/tenant.service.js';
import { moveTenantToCitusNode, type CitusMove } from '../../../control/tenants/citus-placement.service.js';
import { purgeTenant, renameTenant, restoreTenant, resumeTenant, softDeleteTenant, suspendTenant } from '../../../control/tenants/tenant-lifecycle.service.js';
import { countTenants, findTenantBySlug, listTenantsPage, type TenantListFilter } from '../../../control/registry/tenant.repository.js';
import { validateSlug } from '../../../control/registry/slug.js';
import { TENANT_STATUSES, type Tenant, type TenantStatus } from '../../../db/control-database.js';
import { inputError } from '../../../errors.js';
import { enumValues } from '../../enum-values.js';
import { adminBuilder } from '../builder.js';

export const TenantStatusEnum = adminBuilder.enumType('TenantStatus', { values: enumValues(TENANT_STATUSES) });

export const AdminTenantRef = adminBuilder.objectRef<Tenant>('Tenant').implement({
  description: 'A tenant as the registry holds it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    status: t.field({ type: TenantStatusEnum, resolve: (tenant) => tenant.status }),
    plan: t.exposeString('plan'),
    schemaName: t.exposeString('schema_name'),
    templateVersion: t.exposeInt('template_version'),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
    updatedAt: t.expose('updated_at', { type: 'DateTime' }),
    deletedAt: t.expose('deleted_at', { type: 'DateTime', nullable: true }),
  }),
});

const MAX_PAGE = 500;

const filterArgs = (t: Parameters<Parameters<typeof adminBuilder.queryFields>[0]>[0]) => ({
  status: t.arg({ type: [TenantStatusEnum], required: false }),
  plan: t.arg.stringList({ required: false }),
  version: t.arg.intList({ required: false, description: 'Template versions.' }),
  search: t.arg.string({ required: false, description: 'Text the slug or the name contains, in any case.' }),
});

type FilterArgs = { status?: readonly string[] | null; plan?: readonly string[] | null; version?: readonly number[] | null; search?: string | null };

const toFilter = (args: FilterArgs): TenantListFilter => ({
  statuses: (args.status ?? undefined) as TenantStatus[] | undefined,
  plans: args.plan ?? undefined,
  versions: args.version ?? undefined,
  search: args.search ?? undefined,
});

adminBuilder.queryFields((t) => ({
  tenants: t.field({
    type: [AdminTenantRef],
    description: `Tenants ordered by slug (descending: Z to A); page with afterSlug, the last slug of the page before (at most ${MAX_PAGE} per call).`,
    args: {
      ...filterArgs(t),
      first: t.arg.int({ required: false, defaultValue: 50 }),
      afterSlug: t.arg.string({ required: false }),
      descending: t.arg.boolean({ required: false, defaultValue: false }),
    },
    resolve: (_root, args, { database }) => {
      const first = args.first ?? 50;
      if (first < 1 || first > MAX_PAGE) throw inputError('first', `must be between 1 and ${MAX_PAGE}`);
      return listTenantsPage(database.control, { ...toFilter(args), afterSlug: args.afterSlug ?? undefined, descending: args.descending ?? false, limit: first });
    },
  }),
  tenantCount: t.int({
    description: 'How many tenants the same filter as `tenants` matches.',
    args: filterArgs(t),
    resolve: (_root, args, { database }) => countTenants(database.control, toFilter(args)),
  }),
  tenant: t.field({
    type: AdminTenantRef,
    nullable: true,
    args: { slug: t.arg.string({ required: true }) },
    resolve: async (_root, args, { database }) => (await findTenantBySlug(database.control, validateSlug(args.slug))) ?? null,
  }),
}));

const CreatedTenantRef = adminBuilder.objectRef<{ tenant: Tenant; durationMs: number }>('CreatedTenant').implement({
  fields: (t) => ({
    tenant: t.field({ type: AdminTenantRef, resolve: (created) => created.tenant }),
    durationMs: t.exposeFloat('durationMs', { description: 'How long provisioning (or cloning) took, schema, migrations and data included.' }),
  }),
});

const CitusMoveRef = adminBuilder.objectRef<CitusMove>('CitusMove').implement({
  fields: (t) => ({
    tenant: t.field({ type: AdminTenantRef, resolve: (move) => move.tenant }),
    from: t.stringList({ description: 'The nodes (host:port) that held the schema before.', resolve: (move) => [...move.from] }),
    to: t.exposeString('to'),
    moved: t.exposeBoolean('moved', { description: 'False when the tenant was already on that node.' }),
    durationMs: t.exposeFloat('durationMs'),
  }),
});

adminBuilder.mutationFields((t) => ({
  createTenant: t.field({
    type: CreatedTenantRef,
    args: { slug: t.arg.string({ required: true }), name: t.arg.string({ required: false }), plan: t.arg.string({ required: false }) },
    resolve: (_root, args, { database, template }) =>
      createTenant(database, template, { slug: args.slug, name: args.name ?? undefined, plan: args.plan ?? undefined }),
  }),
  cloneTenant: t.field({
    type: CreatedTenantRef,
    description: 'Copies a tenant\'s schema and data into a new tenant (a sandbox or staging copy), inside the database, in one transaction.',
    args: { slug: t.arg.string({ required: true }), as: t.arg.string({ required: true }), name: t.arg.string({ required: false }) },
    resolve: async (_root, args, { database, template, settingsKeys }) => {
      const cloned = await cloneTenant(database, template, args.slug, { slug: args.as, name: args.name ?? undefined, settingsKeys });
      return { tenant: cloned.tenant, durationMs: cloned.durationMs };
    },
  }),
  suspendTenant: t.field({
    type: AdminTenantRef,
    description: 'Its next request gets 403 TENANT_SUSPENDED, on every server.',
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => suspendTenant(database, args.slug),
  }),
  resumeTenant: t.field({
    type: AdminTenantRef,
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => resumeTenant(database, args.slug),
  }),
  deleteTenant: t.field({
    type: AdminTenantRef,
    description: 'Soft delete: the tenant stops resolving (404); its schema stays until purgeTenant. restoreTenant undoes it.',
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => softDeleteTenant(database, args.slug),
  }),
  restoreTenant: t.field({
    type: AdminTenantRef,
    description: 'Undoes deleteTenant, migrating the schema to the template head first if fleet migrations passed it by.',
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database, template }) => restoreTenant(database, template, args.slug),
  }),
  purgeTenant: t.field({
    type: AdminTenantRef,
    description: 'Drops a soft-deleted tenant\'s schema, role and registry row. Irreversible: confirmSlug must repeat the slug.',
    args: { slug: t.arg.string({ required: true }), confirmSlug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => {
      if (args.confirmSlug !== args.slug) throw inputError('confirmSlug', 'must repeat the slug of the tenant to purge');
      return purgeTenant(database, args.slug);
    },
  }),
  renameTenant: t.field({
    type: AdminTenantRef,
    description: 'A new slug (and optionally name). The schema is named after the id, so no data moves.',
    args: { slug: t.arg.string({ required: true }), newSlug: t.arg.string({ required: true }), name: t.arg.string({ required: false }) },
    resolve: (_root, args, { database }) => renameTenant(database, args.slug, { newSlug: args.newSlug, name: args.name ?? undefined }),
  }),
  moveTenantToCitusNode: t.field({
    type: CitusMoveRef,
    description: "On a Citus coordinator: moves the tenant's schema to the worker `node` (host:port) with citus_schema_move, while it keeps serving.",
    args: { slug: t.arg.string({ required: true }), node: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => moveTenantToCitusNode(database, args.slug, args.node),
  }),
  rotateSigningKey: t.field({
    type: AdminTenantRef,
    description: "Replaces the tenant's signing secret: its access tokens stop working at once.",
    args: { slug: t.arg.string({ required: true }) },
    resolve: (_root, args, { database }) => rotateSigningKey(database, args.slug),
  }),
}));
