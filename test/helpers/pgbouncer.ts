import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import getPort from 'get-port';

/** Debian's pgbouncer, installed by .ci/run; undefined where the machine lacks it. */
export const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((candidate) => spawnSync(candidate, ['--version']).status === 0);

export interface RunningPgBouncer {
  /** `postgres://…` through PgBouncer, to the same database as the target URL. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real PgBouncer in transaction mode in front of `targetUrl`, on a free
 * port, with at most `poolSize` server connections per database and user.
 * Clients are trusted (the server side authenticates with the target URL's
 * password); it never listens on anything but 127.0.0.1.
 */
export async function startPgBouncer(targetUrl: string, options: { poolSize: number }): Promise<RunningPgBouncer> {
  if (!PGBOUNCER) throw new Error('pgbouncer is not installed (apt-get install pgbouncer; .ci/run does this)');
  const target = new URL(targetUrl);
  const user = decodeURIComponent(target.username || 'postgres');
  const database = target.pathname.slice(1) || 'postgres';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-pgbouncer-'));
  const port = await getPort({ host: '127.0.0.1' });
  const server = [
    `host=${target.hostname}`,
    `port=${target.port || 5432}`,
    `dbname=${database}`,
    `user=${user}`,
    ...(target.password ? [`password=${decodeURIComponent(target.password)}`] : []),
  ].join(' ');
  await fs.writeFile(path.join(dir, 'users.txt'), `"${user}" ""\n`);
  await fs.writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = ${server}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize}`,
      'max_client_conn = 500',
      'ignore_startup_parameters = extra_float_digits,options',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; the postgres user exists wherever PostgreSQL is installed.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) spawnSync('chown', ['-R', 'postgres', dir]);
  const child: ChildProcess = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitForPort(port, child, () => stderr);
  const url = new URL(`postgres://127.0.0.1:${port}/${database}`);
  url.username = target.username || 'postgres';
  return {
    url: url.toString(),
    async stop() {
      if (child.exitCode === null) await new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port} within 10 s: ${stderr()}`);
}
