import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { withTenantTransaction } from '../../../src/tenancy/tenant-transaction.js';
import { seedTenant, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

/** Every case must be refused quickly and before any tenant SQL runs. */
describe('hostile requests', () => {
  let server: TestServer;
  let tenant: Tenant;
  let tenantStatements = 0;
  /** Pool checkouts: the tenant transaction's raw BEGIN and scope never pass through Kysely's onQuery. */
  let checkouts = 0;
  /** Minted once: minting reads the tenant's key, which would count as a checkout. */
  let as: { token: string };

  beforeAll(async () => {
    server = await startTestServer({ databaseOptions: { onQuery: (sql) => void (!sql.includes('"control"') && tenantStatements++) } });
    tenant = await seedTenant(server.database, await tenantTemplate(), 'hostile');
    as = { token: await server.tokenFor(tenant.slug, 'admin') };
    server.database.pool.on('acquire', () => checkouts++);
    // Warm the registry and key caches, and show the counter moves for a request that does reach the database.
    const before = checkouts;
    expect((await server.graphql(tenant.slug, '{ tenant { slug } }', {}, { as })).body.errors).toBeUndefined();
    expect(checkouts).toBeGreaterThan(before);
  });
  afterAll(() => server.close());

  // Yoga answers refusals raised while parsing with 200 and those raised while validating with 400.
  const refused = async (query: string, variables: Record<string, unknown> | undefined, code: string) => {
    const before = tenantStatements;
    const checkoutsBefore = checkouts;
    const started = performance.now();
    const response = await server.graphql(tenant.slug, query, variables, { as });
    const elapsedMs = performance.now() - started;
    expect(response.body.errors?.[0]?.extensions?.code, response.text.slice(0, 300)).toBe(code);
    expect([200, 400]).toContain(response.status);
    expect(response.body.data ?? null).toBeNull();
    expect(tenantStatements - before).toBe(0);
    expect(checkouts - checkoutsBefore).toBe(0);
    expect(elapsedMs).toBeLessThan(500);
    return response;
  };

  it('1,000 aliases: refused while parsing (TOKEN_LIMIT, the cheaper check, fires first)', async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: tenant { slug }`).join(' ')} }`;
    await refused(query, undefined, 'TOKEN_LIMIT');
  });

  it('aliases under the token limit but over the alias limit: ALIAS_LIMIT, without revealing the limit', async () => {
    const query = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: tenant { slug }`).join(' ')} }`;
    const response = await refused(query, undefined, 'ALIAS_LIMIT');
    expect(response.body.errors?.[0]?.message).toBe('the query uses too many aliases');
  });

  it('depth 40: DEPTH_LIMIT', async () => {
    let selection = 'id';
    for (let i = 0; i < 38; i++) selection = `project { deployments(first: 1) { edges { node { ${selection} } } } }`;
    await refused(`{ deployments(first: 1) { edges { node { ${selection} } } } }`, undefined, 'DEPTH_LIMIT');
  });

  it('a 5 MB query: 413 before parsing', async () => {
    const response = await server.graphql(tenant.slug, `{ tenant { slug } } # ${'x'.repeat(5_000_000)}`);
    expect(response.status).toBe(413);
  });

  it('a huge variables object: 413', async () => {
    const variables = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`v${i}`, 'x'.repeat(20)]));
    const response = await server.graphql(tenant.slug, '{ tenant { slug } }', variables);
    expect(response.status).toBe(413);
  });

  it('invalid UTF-8 in the body: 400 BAD_REQUEST before parsing and before any SQL; valid UTF-8 passes', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const send = (body: Uint8Array<ArrayBuffer>) =>
      server.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, body });
    const utf8 = (text: string) => new TextEncoder().encode(text);
    const withBytes = (bytes: number[]) => new Uint8Array([...utf8(`{"query":${JSON.stringify(create)},"variables":{"name":"bad`), ...bytes, ...utf8('"}}')]);

    // A truncated two-byte sequence (0xC3 0x28) and a byte that never occurs in UTF-8 (0xFF).
    for (const bytes of [[0xc3, 0x28], [0xff]]) {
      const before = tenantStatements;
      const response = await send(withBytes(bytes));
      expect(response.status).toBe(400);
      expect(await response.text()).toBe('{"errors":[{"message":"the request body is not valid UTF-8","extensions":{"code":"BAD_REQUEST"}}]}');
      expect(tenantStatements - before).toBe(0);
    }
    const valid = await send(withBytes([...utf8('-Zürich-✓')]));
    expect(await valid.json()).toEqual({ data: { createProject: { name: 'bad-Zürich-✓' } } });
  });

  // Yoga would decode each of these leniently: the resolver would see (and the database store) U+FFFD.
  const create = 'mutation($name: String!) { createProject(input: { name: $name }) { name } }';
  const expectBadRequest = async (send: () => Promise<Response>, expected: string) => {
    const before = tenantStatements;
    const response = await send();
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(expected);
    expect(tenantStatements - before).toBe(0);
  };

  it('invalid UTF-8 behind percent-encoding in a form body: 400 BAD_REQUEST before any SQL; valid percent-encoding passes', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    // The CSRF header lets the form post through, as a same-site client's would.
    const post = (encodedName: string) =>
      server.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-yoga-csrf': '1', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` },
        body: `query=${encodeURIComponent(create)}&variables=${encodeURIComponent('{"name":"')}${encodedName}${encodeURIComponent('"}')}`,
      });

    // A truncated two-byte sequence, a byte that never occurs in UTF-8, an encoded surrogate.
    for (const name of ['form%C3%28', 'form%FF', 'form%ED%A0%80']) {
      await expectBadRequest(
        () => post(name),
        '{"errors":[{"message":"the request body has a percent-encoded sequence that is not valid UTF-8","extensions":{"code":"BAD_REQUEST"}}]}',
      );
    }
    // A '%' without two hex digits is a literal '%', as URLSearchParams reads it.
    const valid = await post('form-Z%C3%BCrich-100%');
    expect(await valid.json()).toEqual({ data: { createProject: { name: 'form-Zürich-100%' } } });
  });

  it('invalid UTF-8 behind percent-encoding in a GET query string: 400 BAD_REQUEST before any SQL; valid percent-encoding passes', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const search = 'query($s: String) { projects(filter: { search: $s }) { totalCount } }';
    const get = (encodedSearch: string) =>
      server.fetch(`http://yoga/graphql?query=${encodeURIComponent(search)}&variables=${encodeURIComponent('{"s":"')}${encodedSearch}${encodeURIComponent('"}')}`, {
        headers: { 'x-graphql-yoga-csrf': '1', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` },
      });

    await expectBadRequest(
      () => get('a%C3%28'),
      '{"errors":[{"message":"the query string has a percent-encoded sequence that is not valid UTF-8","extensions":{"code":"BAD_REQUEST"}}]}',
    );
    const valid = await get('Z%C3%BCrich');
    expect(await valid.json()).toEqual({ data: { projects: { totalCount: expect.any(Number) } } });
  });

  it('an unpaired surrogate escaped in JSON (\\ud800): 400 BAD_REQUEST before any SQL; an escaped pair passes', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const send = (body: string) =>
      server.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` }, body });
    const query = JSON.stringify(create);

    for (const variables of ['{"name":"bad\\ud800"}', '{"name":"bad\\udc00-"}', '{"name":"ok","\\ud800":1}', '{"name":"ok","nested":[{"deep":["\\ud800"]}]}']) {
      await expectBadRequest(
        () => send(`{"query":${query},"variables":${variables}}`),
        '{"errors":[{"message":"the variables contain an unpaired surrogate","extensions":{"code":"BAD_REQUEST"}}]}',
      );
    }
    await expectBadRequest(
      () => send('{"query":"{ tenant { slug } }","operationName":"\\ud800"}'),
      '{"errors":[{"message":"the operationName contains an unpaired surrogate","extensions":{"code":"BAD_REQUEST"}}]}',
    );
    await expectBadRequest(
      () => send('{"query":"{ projects(filter: { search: \\"\\ud800\\" }) { totalCount } }"}'),
      '{"errors":[{"message":"the query contains an unpaired surrogate","extensions":{"code":"BAD_REQUEST"}}]}',
    );
    const valid = await send(`{"query":${query},"variables":{"name":"pair-\\ud83d\\ude00"}}`);
    expect(await valid.json()).toEqual({ data: { createProject: { name: 'pair-😀' } } });
  });

  it('variables too large to check cheaply (wide or deep): 400 BAD_REQUEST before any SQL', async () => {
    const token = await server.tokenFor(tenant.slug, 'admin');
    const send = (variables: string) =>
      server.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${token}` },
        body: `{"query":"{ tenant { slug } }","variables":${variables}}`,
      });
    for (const variables of [`{"v":[${Array(20_000).fill(0).join(',')}]}`, `{"v":${'['.repeat(50_000)}${']'.repeat(50_000)}}`]) {
      const started = performance.now();
      await expectBadRequest(() => send(variables), '{"errors":[{"message":"the variables hold too many values","extensions":{"code":"BAD_REQUEST"}}]}');
      expect(performance.now() - started).toBeLessThan(500);
    }
  });

  it('a streamed body over the limit, with no Content-Length to refuse it early: 413 while it is read', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"query":"{ tenant { slug } }","extensions":{"pad":"'));
        if (sent > 2_000_000) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const response = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('too many tokens: TOKEN_LIMIT', async () => {
    const query = `{ tenant { ${Array.from({ length: 3000 }, () => 'slug').join(' ')} } }`;
    await refused(query, undefined, 'TOKEN_LIMIT');
  });

  it('circular fragments: a validation error, not a stack overflow', async () => {
    const query = 'query { tenant { ...A } } fragment A on Tenant { ...B } fragment B on Tenant { ...A }';
    const response = await server.graphql(tenant.slug, query);
    expect(response.body.errors?.some((e) => /Cannot spread fragment "A" within itself/.test(e.message))).toBe(true);
    expect(response.body.data ?? null).toBeNull();
  });

  it('field suggestions are not offered', async () => {
    const response = await server.graphql(tenant.slug, '{ deployment { id } }');
    expect(response.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('a form-encoded mutation (a cross-site form post) is refused by CSRF prevention', async () => {
    const response = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'admin')}` },
      body: 'query=mutation%7BcreateProject(input%3A%7Bname%3A%22csrf%22%7D)%7Bid%7D%7D',
    });
    expect(response.status).toBe(403);
    const count = await server.graphql<{ projects: { totalCount: number } }>(tenant.slug, '{ projects(filter: { search: "csrf" }) { totalCount } }');
    expect(count.body.data!.projects.totalCount).toBe(0);
  });

  it('CORS: no headers for an unknown origin by default; listed origins only when configured', async () => {
    const preflight = (origin: string) => ({ method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const closed = await server.fetch('http://yoga/graphql', preflight('https://evil.example'));
    expect(closed.headers.get('access-control-allow-origin')).toBeNull();

    const open = await startTestServer({ database: server.database, yoga: { config: testConfig({ corsOrigins: ['https://app.example'] }) } });
    try {
      const allowed = await open.fetch('http://yoga/graphql', preflight('https://app.example'));
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const denied = await open.fetch('http://yoga/graphql', preflight('https://evil.example'));
      expect(denied.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await open.close();
    }
  });

  it('the standard list page and GraphiQL introspection still pass the limits', async () => {
    const page = await server.graphql(tenant.slug, '{ deployments(first: 20, filter: { status: [ACTIVE] }) { totalCount edges { node { id url createdAt project { name } } } } }');
    expect(page.body.errors).toBeUndefined();
    const { getIntrospectionQuery } = await import('graphql');
    const introspection = await server.graphql(tenant.slug, getIntrospectionQuery());
    expect(introspection.body.errors).toBeUndefined();
  });

  it('a statement that runs too long is cancelled by the per-transaction statement_timeout', async () => {
    const attempt = withTenantTransaction(server.database, tenant, { readOnly: true, statementTimeoutMs: 100 }, (db) =>
      db.selectNoFrom((eb) => eb.fn('pg_sleep', [eb.val(2)]).as('slept')).execute(),
    );
    await expect(attempt).rejects.toMatchObject({ code: '57014' });
    // The setting was transaction-local: the next transaction has the default again.
    const timeout = await withTenantTransaction(server.database, tenant, { readOnly: true }, async (db) =>
      (await db.selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('statement_timeout')]).as('t')).executeTakeFirstOrThrow()).t,
    );
    expect(timeout).toBe('5s');
  });
});
