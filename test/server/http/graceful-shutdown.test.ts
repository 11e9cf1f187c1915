import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config.js';
import type { Database } from '../../../src/db/database.js';
import { createReadiness } from '../../../src/server/observability/readiness.js';
import { fingerprintsIn, seedFingerprintedRows } from '../../helpers/fingerprints.js';
import { migrateControlPlane } from '../../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { openScratchDatabase } from '../../helpers/scratch-database.js';
import { openTestDatabase, seedTenant, TEMPLATES_DIR, tenantTemplate } from '../../helpers/test-database.js';
import { startTestServer } from '../../helpers/test-server.js';

type Outcome = 'ok' | 'refused' | 'lost' | `status ${number}`;

/**
 * One request over `agent`. refused: the server never had the request: no
 * connection could be made (the listener is closed), or a connection made
 * for this request was reset before any answer, which is the kernel
 * resetting what was still in its accept queue when the listener closed (our
 * server never resets a connection it accepted and that has a request).
 * lost: the request went out on an established keep-alive connection and no
 * response came back.
 */
/** Why each lost request was lost, for the log when the count is not 0. */
const lostReasons: string[] = [];

function request(agent: http.Agent, port: number, tenant: string, token: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = false;
    const req = http.request(
      { host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-tenant-id': tenant, authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && fingerprintsIn(JSON.parse(body)).length > 0 ? 'ok' : `status ${res.statusCode ?? 0}`));
        res.on('error', () => resolve('lost'));
      },
    );
    req.on('finish', () => (sent = true));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const neverAccepted = (!sent && error.code === 'ECONNREFUSED') || (!req.reusedSocket && error.code === 'ECONNRESET');
      if (!neverAccepted) lostReasons.push(`${error.code ?? error.message} on a ${req.reusedSocket ? 'reused' : 'new'} connection${sent ? ', request sent' : ''}`);
      resolve(neverAccepted ? 'refused' : 'lost');
    });
    req.end(JSON.stringify({ query: '{ deployments(first: 20) { totalCount edges { node { url project { name } } } } }' }));
  });
}

describe('graceful shutdown', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('SIGTERM under load: every accepted request completes, none is lost, and the process exits 0', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'shutdown');
    await seedFingerprintedRows(database, tenant);
    const helper = await startTestServer({ database });
    const token = await helper.tokenFor(tenant.slug, 'viewer');
    await helper.close();

    const port = await getPort();
    // node --import tsx, not the tsx binary: the signal must reach the server itself, not a wrapper.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: String(port), METRICS_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('listening on') && resolve());
      child.once('exit', () => reject(new Error('server exited before it was ready')));
    });

    // Keep-alive connections, opened before the signal: requests on them are
    // what "in flight" means. (A connection still in the kernel's accept
    // queue when the listener closes is reset by the kernel, not by us; load
    // balancers avoid that by watching /ready before they stop sending.)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const outcomes: Outcome[] = [];
    let stop = false;
    const workers = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const outcome = await request(agent, port, tenant.slug, token);
        outcomes.push(outcome);
        if (outcome === 'refused') break;
      }
    });
    // Signal once the server is visibly busy, however slow the machine is.
    const deadline = Date.now() + 20_000;
    while (outcomes.filter((o) => o === 'ok').length < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const servedBeforeSignal = outcomes.filter((o) => o === 'ok').length;
    child.kill('SIGTERM');
    const code = await exited;
    stop = true;
    await Promise.all(workers);
    agent.destroy();

    const count = (kind: Outcome) => outcomes.filter((o) => o === kind).length;
    console.log(`graceful shutdown: ${count('ok')} ok (${servedBeforeSignal} before SIGTERM), ${count('refused')} refused after the listener closed, ${count('lost')} lost${lostReasons.length ? ` (${lostReasons.join('; ')})` : ''}, ${outcomes.length} total`);
    expect(servedBeforeSignal).toBeGreaterThan(0);
    expect(count('lost')).toBe(0);
    expect(outcomes.filter((o) => o.startsWith('status'))).toEqual([]);
    expect(code).toBe(0);
  });

  it('/ready is 200 when the fleet is at the template head, 503 saying why when a tenant is behind or shutdown began; /health stays 200; both answer JSON', async () => {
    const server = await startTestServer({ database });
    const templates = await loadTemplates(TEMPLATES_DIR);
    const latest = templates.tenant.latestVersion;
    // A fleet of its own: the suite's database holds other files' tenants at older versions while they test migrations.
    const fleet = await openScratchDatabase();
    try {
      await migrateControlPlane(fleet.database, templates.control);
      await seedTenant(fleet.database, templates.tenant, 'ready');
      const ready = createReadiness(fleet.database, latest, 0);
      expect(await ready.check()).toBe(true);
      expect(await createReadiness(fleet.database, latest + 1, 0).check()).toBe(false);
      ready.drain();
      expect(await ready.state()).toEqual({ ready: false, reason: 'shutting down' });

      const served = await startTestServer({ database, yoga: { readiness: createReadiness(fleet.database, latest + 1, 0) } });
      try {
        const notReady = await served.fetch('http://yoga/ready');
        expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'not ready', reason: `1 tenant is behind template version ${latest + 1}: run npm run migrate` }]);
        const health = await served.fetch('http://yoga/health');
        expect([health.status, health.headers.get('content-type'), await health.json()]).toEqual([200, 'application/json; charset=utf-8', { status: 'ok' }]);
      } finally {
        await served.close();
      }
      const readyNow = await server.fetch('http://yoga/ready');
      expect([readyNow.status, await readyNow.json()]).toEqual([200, { status: 'ready' }]);
    } finally {
      await server.close();
      await fleet.drop();
    }
  });
});
