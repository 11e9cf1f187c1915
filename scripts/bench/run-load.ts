// Child process of the list-page benchmark: one autocannon run, kept out of
// the server's process so the load generator does not share its event loop.
// argv: <plan.json>. Prints one JSON line with the result.
import fs from 'node:fs/promises';
import autocannon from 'autocannon';
import { LIST_PAGE_HASH, LIST_PAGE_QUERY, ownsUrl, urlsIn, type Target } from './list-page-query.js';

interface Plan {
  readonly url: string;
  readonly target: Target;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly tenants: readonly { slug: string; token: string; writerToken: string }[];
  /** Check the rows of every Nth response. */
  readonly sampleEvery: number;
  /** Percent of requests that create a project instead of reading the list page (schemata only). */
  readonly writePercent: number;
  /** Send the list page's trusted-document hash instead of its text (schemata only). */
  readonly trustedDocuments: boolean;
}

const plan = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as Plan;
const listPage = plan.trustedDocuments ? { extensions: { persistedQuery: { version: 1, sha256Hash: LIST_PAGE_HASH } } } : { query: LIST_PAGE_QUERY };
const body = plan.target === 'schemata' ? JSON.stringify(listPage) : '';
const headers = plan.tenants.map((t) => ({
  slug: t.slug,
  headers: { 'content-type': 'application/json', 'x-tenant-id': t.slug, authorization: `Bearer ${t.token}` },
  writerHeaders: { 'content-type': 'application/json', 'x-tenant-id': t.slug, authorization: `Bearer ${t.writerToken}` },
}));
const WRITE = 'mutation Write($name: String!) { createProject(input: { name: $name }) { id } }';
let received = 0;
let written = 0;
const check = { sampled: 0, foreignRows: 0, emptyOrInvalid: 0, writes: 0, failedWrites: 0 };

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  duration: plan.durationSeconds,
  requests: [
    {
      method: plan.target === 'schemata' ? 'POST' : 'GET',
      setupRequest: (request, context) => {
        const pick = headers[Math.floor(Math.random() * headers.length)]!;
        const write = Math.random() * 100 < plan.writePercent;
        Object.assign(context, { slug: pick.slug, write });
        if (write) return { ...request, headers: pick.writerHeaders, body: JSON.stringify({ query: WRITE, variables: { name: `bench write ${process.pid} ${written++}` } }) };
        return { ...request, headers: pick.headers, body };
      },
      onResponse: (status, responseBody, context) => {
        if ((context as { write?: boolean }).write) {
          check.writes++;
          if (status !== 200 || String(responseBody).includes('"errors"')) check.failedWrites++;
          return;
        }
        if (received++ % plan.sampleEvery !== 0 || status !== 200) return;
        const slug = (context as { slug: string }).slug;
        const urls = urlsIn(plan.target, String(responseBody));
        check.sampled++;
        if (!urls || urls.length === 0) check.emptyOrInvalid++;
        else check.foreignRows += urls.filter((url) => !ownsUrl(slug, url)).length;
      },
    },
  ],
});

console.log(
  JSON.stringify({
    target: plan.target,
    tenants: plan.tenants.length,
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    ...check,
  }),
);
