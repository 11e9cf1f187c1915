import { TenantRegistry } from '../../src/control/tenant-registry.js';
import type { Database, OpenDatabaseOptions } from '../../src/db/database.js';
import { createSchemataYoga, type SchemataYogaOptions } from '../../src/server/yoga.js';
import { openTestDatabase, testConfig } from './test-database.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] };
  readonly text: string;
}

export interface TestServer {
  readonly database: Database;
  readonly registry: TenantRegistry;
  /** POSTs to Yoga in-process (no port); `tenant` goes in X-Tenant-ID unless null. */
  graphql<T = Record<string, unknown>>(
    tenant: string | null,
    query: string,
    variables?: Record<string, unknown>,
    init?: { url?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  /** Any request, for bodies and methods `graphql` cannot express. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: { databaseOptions?: OpenDatabaseOptions; yoga?: Partial<SchemataYogaOptions>; database?: Database } = {},
): Promise<TestServer> {
  const database = options.database ?? (await openTestDatabase(options.databaseOptions));
  const registry = await TenantRegistry.start(database);
  const yoga = createSchemataYoga({ config: testConfig(), database, registry, logError: () => undefined, ...options.yoga });
  return {
    database,
    registry,
    async graphql<T>(tenant: string | null, query: string, variables?: Record<string, unknown>, init: { url?: string; headers?: Record<string, string> } = {}) {
      const response = await yoga.fetch(init.url ?? 'http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(tenant !== null && { 'x-tenant-id': tenant }), ...init.headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text } as GraphQLResponse<T>;
    },
    fetch: async (url, init = {}) => yoga.fetch(new URL(url), init),
    async close() {
      await registry.close();
      if (!options.database) await database.close();
    },
  };
}
