import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unnamedConstraints } from '../../src/migrations/constraint-names.js';
import { splitStatements } from '../../src/migrations/sql-statements.js';
import { loadTemplate, type TemplateKind } from '../../src/migrations/template.js';
import { TEMPLATES_DIR, templatesWith } from '../helpers/test-database.js';

/** The header, up and down sections of a template file as written. */
function sectionsOf(text: string): string[] {
  return text.split(/^--\s*migrate:(?:up|down)\s*$/m);
}

/** SQL with its comments, semicolons and whitespace taken out, for comparing what two texts say. */
function content(sqlText: string): string {
  return sqlText.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/[;\s]/g, '');
}

const UNNAMED_CHECK = "-- migrate:up\nALTER TABLE users ADD COLUMN nickname text CHECK (nickname <> '');\n";
const NAMED_CHECK = "-- migrate:up\nALTER TABLE users ADD COLUMN nickname text CONSTRAINT users_nickname_check CHECK (nickname <> '');\n";

describe('template files', () => {
  it('the shipped templates load in version order with up and down sections', async () => {
    for (const kind of ['control', 'tenant'] as const) {
      const template = await loadTemplate(TEMPLATES_DIR, kind);
      expect(template.migrations.length).toBeGreaterThan(0);
      expect(template.migrations.map((m) => m.version)).toEqual([...template.migrations.map((m) => m.version)].sort((x, y) => x - y));
      for (const migration of template.migrations) {
        expect(migration.up.join('\n')).not.toContain('migrate:');
        expect(migration.down, migration.name).toBeDefined();
      }
    }
  });

  it.each([
    ['names a schema', '0101_add_thing.sql', '-- migrate:up\nCREATE TABLE public.things (id int);', /must not name a schema/],
    ['names another tenant', '0101_add_thing.sql', '-- migrate:up\nSELECT * FROM tenant_abc.users;', /must not name a schema/],
    ['has a bad file name', '2_thing.sql', '-- migrate:up\nSELECT 1;', /NNNN_verb_object\.sql/],
    ['reuses a version', '0001_again.sql', '-- migrate:up\nSELECT 1;', /used twice/],
    ['has no up section', '0101_nothing.sql', 'SELECT 1;', /migrate:up/],
    ['has an up section of comments only', '0101_nothing.sql', '-- migrate:up\n-- CREATE TABLE later (id int);\n', /up section is empty/],
    ['does not parse', '0101_typo.sql', '-- The é counts as one character.\n-- migrate:up\nALTER TABLE users ADD COLUMN x text;\nALTR TABLE users DROP COLUMN x;\n', /0101_typo\.sql: the up section does not parse \(line 4\): syntax error at or near "ALTR"/],
    ['has a down section that does not parse', '0101_typo.sql', '-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT (;\n', /0101_typo\.sql: the down section does not parse \(line 4\): syntax error/],
    ['adds a column with an unnamed CHECK', '0101_add_nickname.sql', UNNAMED_CHECK, /0101_add_nickname\.sql: every constraint needs a name.*unnamed: CHECK on users\.nickname$/],
    ['creates a table with an unnamed UNIQUE', '0101_create_tags.sql', '-- migrate:up\nCREATE TABLE tags (CONSTRAINT tags_pkey PRIMARY KEY (id), id int, label text UNIQUE);\n', /0101_create_tags\.sql: every constraint needs a name.*unnamed: UNIQUE on tags\.label$/],
    ['re-adds an unnamed constraint in its down section', '0101_drop_check.sql', '-- migrate:up\nALTER TABLE users DROP CONSTRAINT users_name_check;\n-- migrate:down\nALTER TABLE users ADD CHECK (length(name) >= 1);\n', /unnamed: CHECK on users$/],
    ['supersedes something that is not a sha256', '0101_add_nickname.sql', `-- migrate:supersedes 5bcb3e5a\n${NAMED_CHECK}`, /takes sha256 checksums in lowercase hex, not "5bcb3e5a"/],
    ['puts its supersedes line inside a section', '0101_add_nickname.sql', `${NAMED_CHECK}-- migrate:supersedes ${'a'.repeat(64)}\n`, /belongs before "-- migrate:up"/],
  ])('a tenant file that %s is refused with INVALID_TEMPLATE', async (_label, file, text, message) => {
    const dir = await templatesWith({ [file]: text });
    await expect(loadTemplate(dir, 'tenant')).rejects.toMatchObject({ code: 'INVALID_TEMPLATE', message: expect.stringMatching(message) });
  });

  it('a schema name inside a comment or a string is not a violation', async () => {
    const dir = await templatesWith({ '0101_note.sql': "-- see public.docs\n-- migrate:up\nCOMMENT ON TABLE users IS 'copied from public.users';" });
    await expect(loadTemplate(dir, 'tenant')).resolves.toMatchObject({ latestVersion: 101 });
  });

  it('every shipped file splits into its statements, which together say all the file says', async () => {
    let severalStatements = 0;
    for (const kind of ['control', 'tenant'] as const) {
      const template = await loadTemplate(TEMPLATES_DIR, kind);
      for (const migration of template.migrations) {
        const [, up, down] = sectionsOf(await fs.readFile(path.join(TEMPLATES_DIR, kind, migration.name), 'utf8'));
        expect(migration.up.length, migration.name).toBeGreaterThan(0);
        if (migration.up.length > 1) severalStatements += 1;
        expect(content(migration.up.join('\n')), migration.name).toBe(content(up!));
        expect(content(migration.down!.join('\n')), migration.name).toBe(content(down!));
        for (const statement of [...migration.up, ...migration.down!]) {
          expect(statement, migration.name).toBe(statement.trim());
          expect(statement, migration.name).not.toMatch(/;$/);
        }
      }
    }
    // Most files hold several statements: the split is exercised, not just passed through.
    expect(severalStatements).toBeGreaterThanOrEqual(8);
  });

  it("a function's body with semicolons inside stays one statement", async () => {
    const notify = (await loadTemplate(TEMPLATES_DIR, 'tenant')).migrations.find((m) => m.name === '0003_notify_row_changes.sql')!;
    const created = notify.up.filter((statement) => statement.startsWith('CREATE FUNCTION'));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/^CREATE FUNCTION notify_row_change\(\)[\s\S]*\$\$[\s\S]*;[\s\S]*RETURN NULL;\s*END\s*\$\$$/);
  });

  it('a file past the cut loads with its constraints named', async () => {
    const dir = await templatesWith({ '0101_add_nickname.sql': NAMED_CHECK });
    const template = await loadTemplate(dir, 'tenant');
    expect(template.migrations.at(-1)).toMatchObject({ name: '0101_add_nickname.sql', up: [NAMED_CHECK.split('\n')[1]!.replace(/;$/, '')] });
  });

  it.each([
    ['tenant', '0001_create_domain.sql'],
    ['control', '0005_add_tenant_lifecycle_and_usage.sql'],
  ] as const)('the %s files before the cut load though they have unnamed constraints (%s)', async (kind, file) => {
    const text = sectionsOf(await fs.readFile(path.join(TEMPLATES_DIR, kind, file), 'utf8'))[1]!;
    expect((await splitStatements(text)).flatMap((s) => unnamedConstraints(s.tree)).length).toBeGreaterThan(0);
    await expect(loadTemplate(TEMPLATES_DIR, kind)).resolves.toMatchObject({ kind });
  });

  it('the cut is per kind: control files from 0006 on and tenant files from 0002 on are checked, the ones before are exempt', async () => {
    const withFile = async (kind: TemplateKind, file: string) => {
      const dir = await templatesWith({});
      await fs.writeFile(path.join(dir, kind, file), UNNAMED_CHECK);
      return loadTemplate(dir, kind);
    };
    const refused = { code: 'INVALID_TEMPLATE', message: expect.stringMatching(/unnamed: CHECK on users\.nickname/) };
    await expect(withFile('control', '0006_add_nickname.sql')).rejects.toMatchObject(refused);
    await expect(withFile('control', '0005_add_tenant_lifecycle_and_usage.sql')).resolves.toMatchObject({ kind: 'control' });
    await expect(withFile('tenant', '0002_add_identity.sql')).rejects.toMatchObject(refused);
    await expect(withFile('tenant', '0001_create_domain.sql')).resolves.toMatchObject({ kind: 'tenant' });
  });

  it('the checksum covers the whole file', async () => {
    const dir = await templatesWith({});
    const before = await loadTemplate(dir, 'tenant');
    const file = path.join(dir, 'tenant', before.migrations[0]!.name);
    await fs.appendFile(file, '\n-- a harmless-looking edit\n');
    const after = await loadTemplate(dir, 'tenant');
    expect(after.migrations[0]!.checksum).not.toBe(before.migrations[0]!.checksum);
  });
});
