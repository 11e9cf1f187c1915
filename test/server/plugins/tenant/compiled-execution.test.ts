import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../../src/db/control-database.js';
import { seedFingerprintedRows } from '../../../helpers/fingerprints.js';
import { seedTenant, tenantTemplate, testConfig } from '../../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../../helpers/test-server.js';

// A document is compiled on its second run (useCompiledExecution), so the
// first answer is graphql-js's and every later one graphql-jit's: they must
// be the same, errors and their locations included.
const DOCUMENTS: Record<string, { query: string; variables?: Record<string, unknown>; as?: 'viewer' | 'member' }> = {
  'the list page': { query: '{ deployments(first: 5, filter: { status: ACTIVE }) { totalCount edges { cursor node { id url status project { name } createdBy { email } } } pageInfo { hasNextPage endCursor } } }' },
  'aliases, fragments and variables': {
    query: 'query($n: Int!) { a: projects(first: $n) { ...P } b: projects(last: 1) { ...P } } fragment P on QueryProjectsConnection { totalCount edges { node { name deployments(first: 1) { totalCount } } } }',
    variables: { n: 2 },
  },
  'a refusal by role': { query: 'mutation { createProject(input: { name: "nope" }) { id } }', as: 'viewer' },
  'bad input inside a resolver': { query: '{ deployments(first: 1, after: "not-a-cursor") { totalCount } }' },
  'an admin-only field, partly answered': { query: '{ tenant { slug } auditLog(first: 1) { totalCount } }' },
  'variables that do not coerce': { query: 'query($n: Int!, $after: String) { projects(first: $n, after: $after) { totalCount } }', variables: { n: 'twenty', after: 5 } },
};

describe('compiled execution', () => {
  let server: TestServer;
  let tenant: Tenant;

  beforeAll(async () => {
    // The response cache off: every run must execute, or the later ones would be the first one's copy.
    server = await startTestServer({ yoga: { config: testConfig({ responseCacheTtlMs: 0 }), logError: () => undefined } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'jit');
    await seedFingerprintedRows(server.database, tenant);
  });
  afterAll(() => server.close());

  for (const [name, { query, variables, as = 'viewer' }] of Object.entries(DOCUMENTS)) {
    it(`answers ${name} the same compiled as interpreted`, async () => {
      const answers = [];
      for (let run = 0; run < 3; run++) answers.push((await server.graphql(tenant.slug, query, variables, { as })).body);
      // Each document is answered for real: data where it is valid, a field error (with a path) where it is refused.
      const first = answers[0] as { data?: unknown; errors?: { path?: unknown; message?: string }[] };
      expect(first.data ?? first.errors?.[0]?.path ?? first.errors?.[0]?.message).toBeTruthy();
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });
  }

  it('a document with several operations runs the one asked for, every time', async () => {
    const query = 'query Slug { tenant { slug } } query Count { projects(first: 1) { totalCount } }';
    const run = async (operationName: string) =>
      (await server.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
        body: JSON.stringify({ query, operationName }),
      }).then((response) => response.json())) as { data?: Record<string, unknown> };
    for (let i = 0; i < 3; i++) expect(Object.keys((await run('Slug')).data ?? {})).toEqual(['tenant']);
    expect(Object.keys((await run('Count')).data ?? {})).toEqual(['projects']);
    expect(Object.keys((await run('Slug')).data ?? {})).toEqual(['tenant']);
  });

  it('an unexpected error keeps its location once compiled (graphql-jit errors have no AST nodes)', async () => {
    const broken = await seedTenant(server.database, await tenantTemplate(), 'jit');
    await sql`ALTER TABLE ${sql.id(broken.schema_name, 'workflows')} RENAME TO workflows_gone`.execute(server.database.control);
    const query = '{ workflows(first: 5) { edges { node { name } } } }';
    for (let run = 0; run < 3; run++) {
      const response = await server.graphql(broken.slug, query, {}, { as: 'viewer' });
      expect(response.body.errors).toEqual([{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['workflows'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    }
  });
});
