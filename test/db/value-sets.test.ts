import { GraphQLEnumType, type GraphQLSchema } from 'graphql';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_FEATURES, RESTORABLE_TENANT_STATUSES, TENANT_STATUSES, type Tenant } from '../../src/db/control-database.js';
import type { Database } from '../../src/db/database.js';
import { CONTROL_SCHEMA } from '../../src/db/identifiers.js';
import { DEPLOYMENT_STATUSES, ONE_TIME_TOKEN_PURPOSES, USER_ROLES, WORKFLOW_STATUSES } from '../../src/db/tenant-database.js';
import { adminSchema } from '../../src/graphql/admin/schema/index.js';
import { schema } from '../../src/graphql/schema/index.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

interface ValueSet {
  /** How the failure names the TypeScript list. */
  readonly name: string;
  readonly values: readonly string[];
  /** The GraphQL enum built from it, if any. */
  readonly graphql?: { readonly schema: () => GraphQLSchema; readonly type: string };
}

/** `table.column` → the list its CHECK must hold. */
const TENANT_SETS: Record<string, ValueSet> = {
  'users.role': { name: 'USER_ROLES', values: USER_ROLES, graphql: { schema: () => schema, type: 'UserRole' } },
  'deployments.status': { name: 'DEPLOYMENT_STATUSES', values: DEPLOYMENT_STATUSES, graphql: { schema: () => schema, type: 'DeploymentStatus' } },
  'workflows.status': { name: 'WORKFLOW_STATUSES', values: WORKFLOW_STATUSES, graphql: { schema: () => schema, type: 'WorkflowStatus' } },
  'one_time_tokens.purpose': { name: 'ONE_TIME_TOKEN_PURPOSES', values: ONE_TIME_TOKEN_PURPOSES },
};

const CONTROL_SETS: Record<string, ValueSet> = {
  'tenants.status': { name: 'TENANT_STATUSES', values: TENANT_STATUSES, graphql: { schema: () => adminSchema, type: 'TenantStatus' } },
  'tenants.status_before_delete': { name: 'RESTORABLE_TENANT_STATUSES', values: RESTORABLE_TENANT_STATUSES },
  'plans.features': { name: 'PLAN_FEATURES', values: PLAN_FEATURES },
};

// Lists only SQL holds: no TypeScript type or GraphQL enum repeats them, so
// there is nothing to keep in step (the column is typed string[]).
const CONTROL_SQL_ONLY = ['tenant_auth.idp_algorithms'];

let database: Database;
let tenant: Tenant;

beforeAll(async () => {
  database = await openTestDatabase();
  tenant = await seedTenant(database, await tenantTemplate(), 'checks');
});

afterAll(async () => {
  await database.close();
});

/**
 * The value list of every single-column CHECK that lists values
 * (`x IN (…)` or `x <@ ARRAY[…]`), by `table.column`, as PostgreSQL stores it.
 */
async function listedValues(schemaName: string): Promise<Map<string, string[]>> {
  const result = await sql<{ column: string; definition: string }>`
    SELECT c.relname || '.' || a.attname AS column, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'c' AND n.nspname = ${schemaName} AND cardinality(k.conkey) = 1`.execute(database.control);
  const lists = new Map<string, string[]>();
  for (const row of result.rows) {
    const array = /ARRAY\[(.*)\]/.exec(row.definition);
    if (!array) continue;
    const values = [...array[1]!.matchAll(/'((?:[^']|'')*)'::text/g)].map((match) => match[1]!.replaceAll("''", "'"));
    expect(lists.has(row.column), `${schemaName}: two CHECKs list values for ${row.column}`).toBe(false);
    lists.set(row.column, values);
  }
  return lists;
}

describe.each([
  { kind: 'tenant', sets: TENANT_SETS, sqlOnly: [], schemaName: () => tenant.schema_name },
  { kind: 'control', sets: CONTROL_SETS, sqlOnly: CONTROL_SQL_ONLY, schemaName: () => CONTROL_SCHEMA },
])('the $kind template', ({ kind, sets, sqlOnly, schemaName }) => {
  it('has CHECKs that list exactly the values of the TypeScript lists', async () => {
    const checks = await listedValues(schemaName());
    for (const [column, set] of Object.entries(sets)) {
      const listed = checks.get(column);
      expect(listed, `${kind} ${column}: no CHECK lists its values, but ${set.name} says it has some`).toBeDefined();
      expect([...listed!].sort(), `${kind} ${column}: the SQL CHECK lists [${listed!.join(', ')}], ${set.name} holds [${set.values.join(', ')}]`).toEqual(
        [...set.values].sort(),
      );
    }
  });

  it('lists no value set in a CHECK that has no TypeScript list', async () => {
    const checks = await listedValues(schemaName());
    const unlisted = [...checks.keys()].filter((column) => !(column in sets) && !sqlOnly.includes(column));
    expect(unlisted, `${kind}: define these value sets once (as const) next to the table types and add them here`).toEqual([]);
    expect(sqlOnly.filter((column) => !checks.has(column)), `${kind}: listed as SQL-only, but no CHECK lists their values`).toEqual([]);
  });

  it('gives each GraphQL enum the values of its list', () => {
    for (const set of Object.values(sets)) {
      if (!set.graphql) continue;
      const type = set.graphql.schema().getType(set.graphql.type);
      expect(type).toBeInstanceOf(GraphQLEnumType);
      const values = (type as GraphQLEnumType).getValues().map((value) => value.value as string);
      expect(values.sort(), `GraphQL enum ${set.graphql.type} vs ${set.name}`).toEqual([...set.values].sort());
    }
  });
});
