import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { ControlDatabase } from './control-database.js';
import { sendStatement } from './scoped-statements.js';
import { ensureEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import type { TenantDatabase } from './tenant-database.js';

export type { StatementMeter, TransactionOpening } from './scoped-statements.js';
import type { StatementMeter, TransactionOpening } from './scoped-statements.js';

export interface Database {
  readonly pool: pg.Pool;
  /** Control-plane handle; its tables are schema-qualified (`control.tenants`). */
  readonly control: Kysely<ControlDatabase>;
  /**
   * A tenant-table handle bound to one checked-out client, for the duration
   * of a transaction that the caller manages on that client. Its tables name
   * no schema: they mean something only once the transaction has entered a
   * tenant's scope (src/tenancy/transaction-scope.ts).
   */
  bindClient(client: pg.PoolClient, meter?: StatementMeter, opening?: TransactionOpening): Kysely<TenantDatabase>;
  /**
   * Records that `client` served `schema`; true once it has served
   * PG_CONNECTION_MAX_SCHEMAS distinct schemas, when it should be released
   * as broken so the pool replaces its backend (see Config).
   */
  visitedSchema(client: pg.PoolClient, schema: string): boolean;
  /** Connection string of the pool, password included; never print it, print `description`. */
  readonly url: string;
  /**
   * Where a connection that needs a session goes (LISTEN): DATABASE_DIRECT_URL
   * when set, else the pool's URL. Never print it either.
   */
  readonly sessionUrl: string;
  /** One line saying which database is in use, safe to log. */
  readonly description: string;
  /** Whether close() stops the server too: the embedded PostgreSQL that this process started. */
  readonly stopsServerOnClose: boolean;
  /** The citus extension's version when the database is a Citus coordinator, read at connect. */
  readonly citusVersion: string | undefined;
  /** Whether tenant roles are created with LOGIN and a credential (TENANT_ROLE_LOGIN, 'auto' resolved against citusVersion). */
  readonly tenantRoleLogin: boolean;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * Which URL the pool uses: 'pooled' (DATABASE_URL, as the request path
   * wants) or 'direct' (DATABASE_DIRECT_URL when set, for CLIs: migrations,
   * export, import, clone).
   * @default 'pooled'
   */
  readonly connection?: 'pooled' | 'direct';
  /** Called with every SQL statement Kysely runs; tests use it to count statements. */
  readonly onQuery?: (sql: string) => void;
  /** Start the embedded server with fsync off (throwaway clusters only). */
  readonly unsafeFastWrites?: boolean;
}

/**
 * Connects to `DATABASE_URL`, or to the embedded PostgreSQL under the data
 * directory (starting it if no process has). `close()` ends the pool and stops
 * the embedded server only if this process started it.
 */
export async function openDatabase(config: Config, options: OpenDatabaseOptions = {}): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  const direct = config.databaseDirectUrl;
  let url = options.connection === 'direct' ? (direct ?? config.databaseUrl) : config.databaseUrl;
  if (url === undefined) {
    embedded = await ensureEmbeddedPostgres({ dataDir: config.dataDir, unsafeFastWrites: options.unsafeFastWrites });
    url = embedded.url;
  }

  // The request pool may be a transaction pooler: nothing sent on it may
  // outlive its transaction. No session SET (only set_config(…, true)), no
  // named prepared statements, no session advisory locks (only *_xact_*), no
  // LISTEN, no temporary tables. Whatever needs a session uses sessionUrl.
  const pool = new pg.Pool({ connectionString: url, max: config.poolSize, connectionTimeoutMillis: 10_000 });
  // An idle or checked-out client whose server goes away emits 'error'; without
  // a listener that error would crash the process.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));

  let version: string;
  let citusVersion: string | undefined;
  try {
    const engine = (
      await pool.query<{ server_version: string; citus: string | null }>(
        "SELECT current_setting('server_version') AS server_version, (SELECT extversion FROM pg_extension WHERE extname = 'citus') AS citus",
      )
    ).rows[0];
    version = engine?.server_version ?? '?';
    citusVersion = engine?.citus ?? undefined;
  } catch (error) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw new Error(`cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}`);
  }

  const log = options.onQuery ? (event: { query: { sql: string } }) => options.onQuery?.(event.query.sql) : undefined;
  const control = new Kysely<ControlDatabase>({ dialect: new PostgresDialect({ pool }), ...(log && { log }) });

  const where = redact(url);
  if (citusVersion !== undefined) version += ` with Citus ${citusVersion}`;
  const description = embedded
    ? `database: embedded PostgreSQL ${version} at ${where} (${embedded.owned ? 'started by this process' : 'already running, reused'}; data in ${path.relative(process.cwd(), config.dataDir) || '.'}/pg)`
    : `database: PostgreSQL ${version} at ${where} (from ${url === direct ? 'DATABASE_DIRECT_URL' : 'DATABASE_URL'})${direct && url !== direct ? `; sessions at ${redact(direct)}` : ''}`;

  // Pooled connections live long; building their Kysely once, not per request, saves allocations on the hot path.
  const bound = new WeakMap<pg.PoolClient, Kysely<TenantDatabase>>();
  // What each client's statements go through now (its transaction's opening and meter); a client serves one transaction at a time.
  const current = new WeakMap<pg.PoolClient, { query(text: string, values?: unknown[]): Promise<pg.QueryResult>; release(): void }>();
  const schemasVisited = new WeakMap<pg.PoolClient, Set<string>>();
  let closed = false;
  return {
    pool,
    control,
    bindClient(client, meter, opening) {
      // One per transaction, so Kysely's per-connection state is built once per transaction, not per statement.
      current.set(client, { query: (text, values) => sendStatement(client, opening, meter, text, values), release: () => undefined });
      let db = bound.get(client);
      if (!db) {
        // Kysely asks its "pool" for a connection per query; this one always
        // hands out this client and never releases it, so every statement
        // stays inside the caller's transaction on it. The transaction is
        // looked up when Kysely asks, which it does in the same synchronous
        // step as compiling the statement (where the caller's guard refuses a
        // handle whose transaction ended): a statement compiled in one
        // transaction can never be sent in the next one on this client.
        const pinned = { connect: async () => current.get(client)!, end: async () => undefined };
        db = new Kysely<TenantDatabase>({ dialect: new PostgresDialect({ pool: pinned as unknown as pg.Pool }), ...(log && { log }) });
        bound.set(client, db);
      }
      return db;
    },
    visitedSchema(client, schema) {
      if (config.connectionMaxSchemas === 0) return false;
      let visited = schemasVisited.get(client);
      if (!visited) schemasVisited.set(client, (visited = new Set()));
      visited.add(schema);
      return visited.size >= config.connectionMaxSchemas;
    },
    url,
    sessionUrl: direct ?? url,
    description,
    stopsServerOnClose: embedded?.owned ?? false,
    citusVersion,
    tenantRoleLogin: config.tenantRoleLogin === 'auto' ? citusVersion !== undefined : config.tenantRoleLogin === 'on',
    async close() {
      if (closed) return;
      closed = true;
      // Ends the pool; bound handles' pinned pools end nothing.
      await control.destroy();
      await embedded?.stop();
    },
  };
}

/** The URL without its password, for logs and error messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
