import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { ControlDatabase } from './control-database.js';
import { inlineParameters } from './inline-parameters.js';
import { ensureEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import type { TenantDatabase } from './tenant-database.js';

/**
 * Sees every statement a bound client runs, and may refuse one by throwing;
 * the tenant transaction's statement budget is one.
 */
export interface StatementMeter {
  /** Before a statement is sent. */
  beforeStatement(): void;
  /** After a statement returned `rows` rows. */
  afterResult(rows: number): void;
}

/**
 * SQL that must run before the first statement of a transaction (BEGIN and
 * its scope), sent in the same round trip as that statement: one message,
 * so the statement cannot run without it.
 */
export interface TransactionOpening {
  readonly sql: string;
  /**
   * Reads: no transaction spans the request. `sql` (the scope, with no BEGIN)
   * goes out in front of every statement instead, and PostgreSQL runs each
   * such multi-statement message as one implicit transaction, so the scope
   * ends with each statement and there is nothing to COMMIT: one round trip
   * per statement. Statements run one at a time; `settled` resolves once the
   * last sent has (whatever its outcome).
   */
  readonly eachStatement?: boolean;
  settled?: Promise<unknown>;
  /**
   * Set when the first statement goes out; settles once the message has run,
   * and rejects only if no transaction began: a message PostgreSQL refused
   * whole (a NUL byte, a syntax error) never ran BEGIN. Every later statement
   * waits for it and fails with it, so nothing runs outside the scope. Unset:
   * no statement was sent, so no transaction was opened.
   */
  opened?: Promise<void>;
}

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
   * Records that `client` served `schema`; true once it has served more
   * distinct schemas than PG_CONNECTION_MAX_SCHEMAS allows, when it should be
   * released as broken so the pool replaces its backend (see Config).
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
  // The meter of the transaction each client is in now; a client serves one transaction at a time.
  const meters = new WeakMap<pg.PoolClient, StatementMeter>();
  const openings = new WeakMap<pg.PoolClient, TransactionOpening>();
  const schemasVisited = new WeakMap<pg.PoolClient, Set<string>>();
  let closed = false;
  return {
    pool,
    control,
    bindClient(client, meter, opening) {
      if (meter) meters.set(client, meter);
      else meters.delete(client);
      if (opening) openings.set(client, opening);
      else openings.delete(client);
      let db = bound.get(client);
      if (!db) {
        // Kysely asks its "pool" for a connection per query; this one always
        // hands out this client and never releases it, so every statement
        // stays inside the caller's transaction on it.
        const send = (text: string, values?: unknown[]): Promise<pg.QueryResult> => {
          const opening = openings.get(client);
          if (!opening) return client.query(text, values);
          if (opening.eachStatement) {
            const run = () => sendScoped(client, opening.sql, text, values);
            const sent = (opening.settled ?? Promise.resolve()).then(run, run);
            opening.settled = sent.catch(() => undefined);
            return sent;
          }
          if (opening.opened) return opening.opened.then(() => client.query(text, values));
          const inlined = inlinedOrUndefined(text, values);
          // Failed with the transaction open (aborted, 'E'): later statements go on and PostgreSQL refuses
          // them there. Failed with none ('I'): the message was refused whole, and so is every later statement.
          const settle = (sent: Promise<unknown>) => {
            opening.opened = sent.then(
              () => undefined,
              (error: unknown) => {
                if (client.getTransactionStatus() === 'I') throw error;
              },
            );
            opening.opened.catch(() => undefined);
          };
          if (inlined === undefined) {
            const began = client.query(opening.sql);
            settle(began);
            return began.then(() => client.query(text, values));
          }
          // One simple-protocol message; PostgreSQL stops at the first failing statement of it.
          const first = client.query(`${opening.sql}; ${inlined}`).then((results) => (results as unknown as pg.QueryResult[]).at(-1)!);
          settle(first);
          return first;
        };
        const query = async (text: string, values?: unknown[]) => {
          const metering = meters.get(client);
          if (!metering) return send(text, values);
          metering.beforeStatement();
          const result = await send(text, values);
          metering.afterResult(result.rows.length);
          return result;
        };
        const pinned = { connect: async () => ({ query, release: () => undefined }), end: async () => undefined };
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
      return visited.size > config.connectionMaxSchemas;
    },
    url,
    sessionUrl: direct ?? url,
    description,
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

function inlinedOrUndefined(text: string, values: unknown[] | undefined): string | undefined {
  try {
    return values?.length ? inlineParameters(text, values) : text;
  } catch {
    return undefined;
  }
}

/**
 * One statement behind `prefix` in one message: an implicit transaction of
 * its own. A statement whose values have no literal form (bytes) cannot
 * travel so; it gets a transaction of its own around it instead.
 */
async function sendScoped(client: pg.PoolClient, prefix: string, text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
  const inlined = inlinedOrUndefined(text, values);
  if (inlined !== undefined) return (await client.query(`${prefix}; ${inlined}`) as unknown as pg.QueryResult[]).at(-1)!;
  await client.query(`BEGIN; ${prefix}`);
  try {
    const result = await client.query(text, values);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
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
