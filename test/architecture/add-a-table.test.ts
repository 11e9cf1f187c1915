import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { runProcess } from '../helpers/run-process.js';

/** The code blocks of ARCHITECTURE.md's worked example: a file to write, or a line to import. */
interface Step {
  readonly kind: 'file' | 'import-into';
  readonly target: string;
  readonly text: string;
}

async function workedExample(): Promise<Step[]> {
  const doc = await fs.readFile(path.join(PROJECT_ROOT, 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## How to add a tenant table'));
  return [...section.matchAll(/```\w+ (file|import-into)=(\S+)\n([\s\S]*?)```/g)].map((match) => ({
    kind: match[1] as Step['kind'],
    target: match[2]!,
    text: match[3]!,
  }));
}

// What a copy of the project needs to build, type-check and run its tests.
const COPIED = ['src', 'scripts', 'schema-templates', 'test', 'package.json', 'tsconfig.json', 'vitest.config.ts', 'schema.graphql', 'admin-schema.graphql', 'ARCHITECTURE.md'];
// The copy's own checks that the doc's steps keep green: the printed schema, the generated types, the value sets, the rooms.
const COPY_CHECKS = ['test/graphql/schema-file.test.ts', 'test/db/table-types-file.test.ts', 'test/db/value-sets.test.ts', 'test/architecture/room-dependencies.test.ts'];

// Runs inside the copy, on the copy's template and schema: the new table
// reached through GraphQL as a client would.
const ROUND_TRIP_TEST = `
import { describe, expect, it } from 'vitest';
import { openTestDatabase, seedTenant, tenantTemplate } from './helpers/test-database.js';
import { startTestServer } from './helpers/test-server.js';

describe('the worked example', () => {
  it('adds, lists, pages and finds notes, in their own tenant only', async () => {
    const database = await openTestDatabase();
    const template = await tenantTemplate();
    const [mine, theirs] = [await seedTenant(database, template, 'notes'), await seedTenant(database, template, 'notes')];
    const server = await startTestServer({ database });
    try {
      for (const body of ['first note', 'second note', 'third']) {
        const added = await server.graphql(mine.slug, 'mutation($b: String!) { addNote(body: $b) { id body } }', { b: body }, { as: 'member' });
        expect(added.body.errors).toBeUndefined();
      }
      const refused = await server.graphql(mine.slug, 'mutation { addNote(body: "x") { id } }', {}, { as: 'viewer' });
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const page = await server.graphql<{ notes: { totalCount: number; edges: { node: { id: string; body: string } }[]; pageInfo: { endCursor: string } } }>(
        mine.slug, '{ notes(first: 2, search: "note") { totalCount edges { node { id body } } pageInfo { endCursor } } }', {}, { as: 'viewer' });
      expect(page.body.data?.notes.totalCount).toBe(2);
      expect(page.body.data?.notes.edges.map((e) => e.node.body)).toEqual(['second note', 'first note']);
      const after = await server.graphql<{ notes: { edges: unknown[] } }>(mine.slug, 'query($c: String) { notes(first: 2, search: "note", after: $c) { edges { node { id } } } }', { c: page.body.data?.notes.pageInfo.endCursor }, { as: 'viewer' });
      expect(after.body.data?.notes.edges).toEqual([]);
      const id = page.body.data!.notes.edges[0]!.node.id;
      const node = await server.graphql<{ node: { body: string } | null }>(mine.slug, 'query($id: ID!) { node(id: $id) { ... on Note { body } } }', { id }, { as: 'viewer' });
      expect(node.body.data?.node).toEqual({ body: 'second note' });
      const elsewhere = await server.graphql<{ node: unknown; notes: { totalCount: number } }>(theirs.slug, 'query($id: ID!) { node(id: $id) { id } notes { totalCount } }', { id }, { as: 'viewer' });
      expect(elsewhere.body.data).toEqual({ node: null, notes: { totalCount: 0 } });
    } finally {
      await server.close();
      await database.close();
    }
  });
});
`;

describe('ARCHITECTURE.md, "How to add a tenant table"', () => {
  let copy: string;

  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-worked-example-'));
    for (const entry of COPIED) await fs.cp(path.join(PROJECT_ROOT, entry), path.join(copy, entry), { recursive: true });
    await fs.symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rm(copy, { recursive: true, force: true }));

  it('followed to the letter on a copy of the project, gives a table served through GraphQL', { timeout: 240_000 }, async () => {
    const steps = await workedExample();
    expect(steps.map((step) => `${step.kind} ${step.target}`)).toEqual([
      'file schema-templates/tenant/0005_create_notes.sql',
      'file src/data/notes/note.repository.ts',
      'file src/graphql/schema/note.ts',
      'import-into src/graphql/schema/index.ts',
    ]);
    for (const step of steps) {
      const target = path.join(copy, step.target);
      if (step.kind === 'file') {
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, step.text);
      } else {
        const source = await fs.readFile(target, 'utf8');
        const lastImport = source.lastIndexOf("\nimport './");
        expect(lastImport).toBeGreaterThan(0);
        const lineEnd = source.indexOf('\n', lastImport + 1);
        await fs.writeFile(target, `${source.slice(0, lineEnd + 1)}${step.text}${source.slice(lineEnd + 1)}`);
      }
    }

    // The copy reads its own templates; the commands use this run's database (db:types changes nothing there).
    const env = { DATABASE_URL: inject('databaseUrl'), DATABASE_DIRECT_URL: undefined, TEST_DATABASE_URL: inject('databaseUrl'), SCHEMATA_TEMPLATES_DIR: undefined };
    const run = async (args: string[], command = process.execPath) => {
      const result = await runProcess(command, args, env, copy);
      expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
      return result.stdout;
    };
    // Step 2, and the schema file.
    expect(await run(['run', 'db:types'], 'npm')).toContain('src/db/tenant-tables.generated.ts');
    expect(await fs.readFile(path.join(copy, 'src/db/tenant-tables.generated.ts'), 'utf8')).toMatch(/export interface Notes \{/);
    await run(['run', 'schema:print'], 'npm');
    expect(await fs.readFile(path.join(copy, 'schema.graphql'), 'utf8')).toMatch(/type Note implements Node/);
    // The types carry the new table to the repository and the schema file with no cast.
    await run([path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.']);
    await fs.writeFile(path.join(copy, 'test/notes.test.ts'), ROUND_TRIP_TEST);
    await run([path.join(PROJECT_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/notes.test.ts', ...COPY_CHECKS]);
  });
});
