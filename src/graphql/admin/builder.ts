import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, SafeIntResolver } from 'graphql-scalars';
import { SchemataError } from '../../errors.js';
import type { AdminContext } from './context.js';

/**
 * The control plane's own schema, served at /admin/graphql. It shares no
 * types with the tenant schema: nothing here can be reached with a tenant
 * token, and nothing of the tenant API can be reached through it.
 */
export const adminBuilder = new SchemaBuilder<{
  Context: AdminContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    SafeInt: { Input: number; Output: number };
  };
  AuthScopes: { platformAdmin: boolean };
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  // The endpoint already refuses requests without a platform-admin token;
  // the scope on both root types keeps any field from being reachable if
  // this schema is ever served without that check.
  scopeAuth: {
    authScopes: (context) => ({ platformAdmin: context.admin !== undefined && context.admin !== null }),
    unauthorizedError: () => new SchemataError('PLATFORM_ADMIN_REQUIRED', 'this API is for platform admins only'),
  },
});

adminBuilder.queryType({ authScopes: { platformAdmin: true } });
adminBuilder.mutationType({ authScopes: { platformAdmin: true } });
adminBuilder.addScalarType('DateTime', DateTimeResolver);
adminBuilder.addScalarType('SafeInt', SafeIntResolver);

/** A value and how many tenants (or rows) have it. */
export const CountRef = adminBuilder.objectRef<{ value: string; count: number }>('Count').implement({
  fields: (t) => ({ value: t.exposeString('value'), count: t.exposeInt('count') }),
});

export function toCounts(record: Record<string, number>): { value: string; count: number }[] {
  return Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, count]) => ({ value, count }));
}
