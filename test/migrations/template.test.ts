import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../../src/migrations/template.js';
import { TEMPLATES_DIR, templatesWith } from '../helpers/test-database.js';

describe('template files', () => {
  it('the shipped templates load in version order with up and down sections', async () => {
    for (const kind of ['control', 'tenant'] as const) {
      const template = await loadTemplate(TEMPLATES_DIR, kind);
      expect(template.migrations.length).toBeGreaterThan(0);
      expect(template.migrations.map((m) => m.version)).toEqual([...template.migrations.map((m) => m.version)].sort((x, y) => x - y));
      for (const migration of template.migrations) {
        expect(migration.up).not.toContain('migrate:');
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
  ])('a tenant file that %s is refused with INVALID_TEMPLATE', async (_label, file, text, message) => {
    const dir = await templatesWith({ [file]: text });
    await expect(loadTemplate(dir, 'tenant')).rejects.toMatchObject({ code: 'INVALID_TEMPLATE', message: expect.stringMatching(message) });
  });

  it('a schema name inside a comment or a string is not a violation', async () => {
    const dir = await templatesWith({ '0101_note.sql': "-- see public.docs\n-- migrate:up\nCOMMENT ON TABLE users IS 'copied from public.users';" });
    await expect(loadTemplate(dir, 'tenant')).resolves.toMatchObject({ latestVersion: 101 });
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
