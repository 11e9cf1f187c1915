import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';

/** `control-0003-create-tenant-auth` for schema-templates/control/0003_create_tenant_auth.sql. */
function testNameFor(kind: string, file: string): string {
  return `${kind}-${file.replace(/\.sql$/, '').replaceAll('_', '-')}`;
}

describe('template migrations', () => {
  it('each has its own test in test/migrations/, named after the file', () => {
    const tests = new Set(readdirSync(path.join(PROJECT_ROOT, 'test/migrations')).map((name) => name.replace(/\.test\.ts$/, '')));
    const missing = ['control', 'tenant'].flatMap((kind) =>
      readdirSync(path.join(PROJECT_ROOT, 'schema-templates', kind))
        .filter((file) => file.endsWith('.sql'))
        .map((file) => testNameFor(kind, file))
        .filter((name) => !tests.has(name)),
    );
    expect(missing, 'write test/migrations/<name>.test.ts for each').toEqual([]);
  });

  it('derives the name from the file the way ARCHITECTURE.md spells it', () => {
    expect(testNameFor('tenant', '0003_create_notes.sql')).toBe('tenant-0003-create-notes');
  });
});
