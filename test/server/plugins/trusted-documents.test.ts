import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../../src/db/control-database.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { serveGraphqlWs } from '../../../src/server/http/graphql-ws.js';
import { listen } from '../../../src/server/http/http-server.js';
import { loadTrustedDocuments } from '../../../src/server/trusted-documents.js';
import { openTestDatabase, seedTenant, tenantTemplate, testConfig } from '../../helpers/test-database.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';

const LIST = 'query ListPage { deployments(first: 2) { totalCount } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

describe('trusted documents (persisted operations)', () => {
  const dir = path.join(os.tmpdir(), `schemata-trusted-${randomBytes(3).toString('hex')}`);
  const manifest = path.join(dir, 'documents.json');
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let tenant: Tenant;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(manifest, JSON.stringify({ [sha256(LIST)]: LIST }));
    database = await openTestDatabase();
    tenant = await seedTenant(database, await tenantTemplate(), 'trusted');
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await database.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const serve = async (only: boolean) => {
    const server = await startTestServer({ database, yoga: { config: testConfig({ trustedDocumentsFile: manifest, trustedDocumentsOnly: only }) } });
    servers.push(server);
    return server;
  };
  const post = async (server: TestServer, body: object) => {
    const response = await server.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug, authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } };
  };

  it('a known document runs by its hash alone; an unknown hash is 404 PERSISTED_QUERY_NOT_FOUND; other queries still run', async () => {
    const server = await serve(false);
    expect(await post(server, persisted(sha256(LIST)))).toEqual({ status: 200, body: { data: { deployments: { totalCount: 0 } } } });
    const unknown = await post(server, persisted(sha256('{ __typename }')));
    expect([unknown.status, unknown.body.errors?.[0]?.extensions?.code]).toEqual([404, 'PERSISTED_QUERY_NOT_FOUND']);
    expect((await post(server, { query: '{ deployments(first: 1) { totalCount } }' })).body).toEqual({ data: { deployments: { totalCount: 0 } } });
  });

  it('with TRUSTED_DOCUMENTS_ONLY any other query is refused with TRUSTED_DOCUMENTS_ONLY, before it runs; the tenant scope still applies', async () => {
    const server = await serve(true);
    const refused = await post(server, { query: LIST });
    expect([refused.status, refused.body.errors?.[0]?.extensions?.code, refused.body.data]).toEqual([400, 'TRUSTED_DOCUMENTS_ONLY', undefined]);
    expect((await post(server, persisted(sha256(LIST)))).body).toEqual({ data: { deployments: { totalCount: 0 } } });
    // A trusted document is no way around authentication.
    const anonymous = await server.fetch('http://yoga/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': tenant.slug }, body: JSON.stringify(persisted(sha256(LIST))) });
    expect(((await anonymous.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('over WebSocket too: with TRUSTED_DOCUMENTS_ONLY a query is refused, a known id runs, an unknown one is PERSISTED_QUERY_NOT_FOUND', async () => {
    const server = await serve(true);
    const http = await listen(server.yoga, 0);
    const ws = serveGraphqlWs(http.server, server.yoga, { trusted: { documents: await loadTrustedDocuments(manifest), only: true } });
    const client = createClient({ url: `ws://127.0.0.1:${http.port}/t/${tenant.slug}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${await server.tokenFor(tenant.slug, 'viewer')}` } });
    const run = (payload: { query: string; extensions?: Record<string, unknown> }) =>
      new Promise<unknown>((resolve) => {
        let last: unknown;
        client.subscribe(payload, { next: (value) => (last = value), error: (error) => resolve({ error }), complete: () => resolve(last) });
      });
    try {
      expect(await run({ query: LIST })).toEqual({ error: [expect.objectContaining({ extensions: { code: 'TRUSTED_DOCUMENTS_ONLY' } })] });
      expect(await run({ query: '', ...persisted(sha256(LIST)) })).toEqual({ data: { deployments: { totalCount: 0 } } });
      expect(await run({ query: '', ...persisted(sha256('{ nope }')) })).toEqual({ error: [expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })] });
    } finally {
      await client.dispose();
      await ws.close();
      await http.close({ graceMs: 0, timeoutMs: 1_000 });
    }
  });

  it('documentId names a document as the persistedQuery hash does; without the lockdown a body with neither is a plain bad request', async () => {
    const server = await serve(false);
    expect((await post(server, { documentId: sha256(LIST) })).body).toEqual({ data: { deployments: { totalCount: 0 } } });
    const empty = await post(server, {});
    expect([empty.status, empty.body.errors?.[0]?.extensions?.code]).toEqual([400, 'BAD_USER_INPUT']);
  });

  it('a manifest whose key is not its document hash, or whose document does not parse, fails the start naming each', async () => {
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ [sha256('{ a }')]: '{ b }', [sha256('{')]: '{' }));
    await expect(loadTrustedDocuments(bad)).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [expect.stringContaining('is not the sha256 of its document'), expect.stringContaining('does not parse')],
    });
  });
});
