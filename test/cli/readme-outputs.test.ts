import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { runCli } from '../helpers/run-cli.js';
import { migrateControlPlane } from '../../src/migrations/migrate-control.js';
import { loadTemplates } from '../../src/migrations/template.js';
import { openScratchDatabase } from '../helpers/scratch-database.js';
import { seedTenant, TEMPLATES_DIR } from '../helpers/test-database.js';

const README = await fs.readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

/** The output lines README shows under `$ <command>`, up to the next prompt or the end of its block. */
function readmeOutput(command: string): string[] {
  const start = README.indexOf(`\n$ ${command}\n`);
  if (start < 0) throw new Error(`README shows no "$ ${command}"`);
  const rest = README.slice(start + command.length + 4);
  return rest.slice(0, rest.indexOf('```')).split('\n$ ')[0]!.trimEnd().split('\n');
}

/** What differs from run to run: ports, durations, the data directory, ids. */
const normalise = (lines: readonly string[]) =>
  lines.map((line) =>
    line
      .replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
      .replace(/in \d+(\.\d+)? ms/g, 'in <n> ms')
      .replace(/data in [^)]+\)/, 'data in <dir>)'),
  );

/** Keys and value types, recursively; an array by its first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  return typeof value;
}

/** `npm start` on a data directory of its own, until its banner is out; then Ctrl-C. */
async function firstStart(dataDir: string): Promise<{ lines: string[]; code: number | null; stopping: string }> {
  const [port, metricsPort] = [await getPort(), await getPort()];
  const env: NodeJS.ProcessEnv = { ...process.env, SCHEMATA_DATA_DIR: dataDir, PORT: String(port), METRICS_PORT: String(metricsPort), NODE_ENV: 'development', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.DATABASE_DIRECT_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Ctrl-C')) resolve();
      });
      void exited.then(() => reject(new Error(`npm start exited before its banner:\n${stdout}\n${stderr}`)));
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const banner = stdout;
  child.kill('SIGINT');
  const code = await exited;
  // The database lines go to stderr, the rest to stdout, as the README shows them: stderr's first.
  return { lines: [...stderr.trimEnd().split('\n').filter((line) => !line.startsWith('{')), ...banner.trimEnd().split('\n')], code, stopping: stdout.slice(banner.length).trim() };
}

describe("the README's example outputs are what the commands print", () => {
  const dataDir = path.join(PROJECT_ROOT, '.data', `test-readme-${randomBytes(3).toString('hex')}`);
  afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('the first npm start: its banner, line by line, but for ports, durations and the data directory', async () => {
    const { lines, code, stopping } = await firstStart(dataDir);
    expect(normalise(lines)).toEqual(normalise(readmeOutput('npm start')));
    expect(code).toBe(0);
    expect(stopping).toBe('stopping: /ready answers 503, in-flight requests finish, then the database stops');
  }, 120_000);

  it('migrate -- status --json: the same fields as the README shows', async () => {
    // A database of its own (other files leave tenants behind or drifted on purpose), with a tenant, so its lists are not empty.
    const scratch = await openScratchDatabase();
    try {
      const templates = await loadTemplates(TEMPLATES_DIR);
      await migrateControlPlane(scratch.database, templates.control);
      await seedTenant(scratch.database, templates.tenant, 'readme');
      const printed = await runCli('migrate', ['status', '--json'], { DATABASE_URL: scratch.database.url });
      expect(printed.code).toBe(0);
      expect(shape(JSON.parse(printed.stdout))).toEqual(shape(JSON.parse(readmeOutput('npm run -s migrate -- status --json').join('\n'))));
    } finally {
      await scratch.drop();
    }
  });
});
