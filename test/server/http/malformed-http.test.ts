import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { loadTemplates } from '../../../src/migrations/template.js';
import { startServer, type RunningServer } from '../../../src/server/main.js';
import { openTestDatabase, TEMPLATES_DIR, testConfig } from '../../helpers/test-database.js';

/** Request heads a client may send by mistake or on purpose; each over its own connection. */
const get = (target: string, headers: string) => `GET ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`;
const MALFORMED: Record<string, string> = {
  'Host: [': get('/graphql', 'Host: [\r\n'),
  'Host: [ on the admin API': get('/admin/graphql', 'Host: [\r\n'),
  'Host: [ on /health': get('/health', 'Host: [\r\n'),
  'a port out of range': get('/graphql', 'Host: x.localhost:99999\r\n'),
  'a port out of range on the admin API': get('/admin/graphql', 'Host: x.localhost:99999\r\n'),
  'a Host with a space': get('/graphql', 'Host: a b\r\n'),
  'a Host with a path': get('/graphql', 'Host: acme.localhost/evil\r\n'),
  'a Host with user info': get('/graphql', 'Host: user@acme.localhost\r\n'),
  'a Host of two colons': get('/graphql', 'Host: x:y:z\r\n'),
  'a lone % as Host': get('/graphql', 'Host: %\r\n'),
  'an empty Host': get('/graphql', 'Host: \r\n'),
  'no Host at all': get('/graphql', ''),
  'an absolute-form target': get('http://acme.localhost/graphql', 'Host: localhost\r\n'),
  'an absolute-form target with a bad host': get('http://[/graphql', 'Host: localhost\r\n'),
  'an asterisk target': get('*', 'Host: localhost\r\n'),
  'GET /%%': get('/%%', 'Host: localhost\r\n'),
  'an invalid percent-escape as the tenant path': get('/t/%%/graphql?query=%7B__typename%7D', 'Host: localhost\r\nX-GraphQL-Yoga-CSRF: 1\r\n'),
  'invalid UTF-8 as the tenant path': get('/t/%E0%A4/graphql?query=%7B__typename%7D', 'Host: localhost\r\nX-GraphQL-Yoga-CSRF: 1\r\n'),
  'a huge header': get('/graphql', `Host: localhost\r\nX-Big: ${'a'.repeat(100_000)}\r\n`),
  'an unknown method': 'BREW /graphql HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'a method with a bad character': 'G@T /graphql HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'an unknown HTTP version': 'GET /graphql HTTP/9.9\r\nHost: localhost\r\n\r\n',
  'a control character in a header value': get('/graphql', 'Host: localhost\r\nX-Bad: a\x01b\r\n'),
  'a space in a header name': get('/graphql', 'Host: localhost\r\nBad Name: x\r\n'),
  'a NUL in the path': get('/gra\0phql', 'Host: localhost\r\n'),
  'a Content-Length that is not a number': 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n{}',
  'a negative Content-Length': 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n{}',
  'two different Content-Lengths': 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  'Content-Length with chunked encoding': 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
  'a bad chunk size': 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  'a bare LF request line': 'GET /graphql HTTP/1.1\nHost: localhost\n\n',
};

/** Writes `text` to a fresh connection and reads until the server closes it. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.end(text, 'latin1');
  });
}

describe('malformed HTTP over a real socket', () => {
  let database: Database;
  let server: RunningServer;
  beforeAll(async () => {
    database = await openTestDatabase();
    server = await startServer({ config: testConfig(), database, templates: await loadTemplates(TEMPLATES_DIR), port: 0 });
  });
  afterAll(async () => {
    await server.shutdown();
    await database.close();
  });

  for (const [name, request] of Object.entries(MALFORMED)) {
    it(`${name}: a 4xx without a stack trace or a path`, async () => {
      const answer = await exchange(server.port, request);
      expect(answer, answer.slice(0, 500)).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(answer).not.toMatch(/\n\s*at |node:internal|node_modules|\/work\/|Error:/);
    });
  }

  it('invalid UTF-8 as the tenant path, asking for GraphiQL: the page, not an error', async () => {
    const answer = await exchange(server.port, get('/t/%E0%A4/graphql', 'Host: localhost\r\nAccept: text/html\r\n'));
    expect(answer, answer.slice(0, 500)).toMatch(/^HTTP\/1\.1 200 [^]*content-type: text\/html/i);
    // The page's bundled script names node_modules and "Error:" itself; an install path would be ours.
    expect(answer).not.toMatch(/node:internal|\/work\//);
  });

  it('a malformed Host gets a JSON 400 with a code, like the other refusals', async () => {
    const answer = await exchange(server.port, MALFORMED['Host: [']!);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });

  it('an undecodable tenant path is an invalid slug, not an unexpected error', async () => {
    const answer = await exchange(server.port, MALFORMED['invalid UTF-8 as the tenant path']!);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"INVALID_TENANT_ID"');
  });

  it('the server still serves afterwards', async () => {
    for (const request of Object.values(MALFORMED)) await exchange(server.port, request);
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(health.status).toBe(200);
    const graphql = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(graphql.status).toBe(400);
    expect(((await graphql.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('TENANT_REQUIRED');
  });
});
