import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSlug } from '../../../src/control/registry/slug.js';
import { purgeTenant, suspendTenant } from '../../../src/control/tenants/tenant-lifecycle.service.js';
import { createTenant } from '../../../src/control/tenants/tenant.service.js';
import type { Database } from '../../../src/db/database.js';
import { SchemataError } from '../../../src/errors.js';
import type { Template } from '../../../src/migrations/template.js';
import { openTestDatabase, tenantTemplate } from '../../helpers/test-database.js';

const HOSTILE = [
  ["a quote", "acme'; DROP SCHEMA control CASCADE; --"],
  ['a double quote', 'acme"x'],
  ['a comma', 'acme,globex'],
  ['a space', 'acme corp'],
  ['a dot', 'tenant.acme'],
  ['a hyphen', 'acme-corp'],
  ['unicode', 'acmé'],
  ['a lookalike letter', 'аcme'], // Cyrillic а
  ['an uppercase letter', 'Acme'],
  ['a leading digit', '1acme'],
  ['a leading underscore', '_acme'],
  ['the pg_ prefix', 'pg_x'],
  ['pg_catalog', 'pg_catalog'],
  ['public', 'public'],
  ['control', 'control'],
  ['information_schema', 'information_schema'],
  ['57 characters, one over the limit', `a${'b'.repeat(56)}`],
  ['64 characters', 'a'.repeat(64)],
  ['one character', 'a'],
  ['the empty string', ''],
  ['a NUL byte', 'acme\u0000x'],
  ['a newline', 'acme\nx'],
  ['a SQL comment', 'acme--'],
  ['a semicolon', 'acme;'],
] as const;

describe('hostile tenant slugs', () => {
  let database: Database;
  let template: Template;
  let statements = 0;
  let checkouts = 0;

  beforeAll(async () => {
    database = await openTestDatabase({ onQuery: () => statements++ });
    database.pool.on('acquire', () => checkouts++);
    template = await tenantTemplate();
  });
  afterAll(() => database.close());

  it.each(HOSTILE)('a slug with %s is rejected with INVALID_SLUG before any SQL runs', async (_label, slug) => {
    const [statementsBefore, checkoutsBefore] = [statements, checkouts];
    const attempt = createTenant(database, template, { slug });
    await expect(attempt).rejects.toBeInstanceOf(SchemataError);
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_SLUG' });
    await expect(purgeTenant(database, slug)).rejects.toMatchObject({ code: 'INVALID_SLUG' });
    await expect(suspendTenant(database, slug)).rejects.toMatchObject({ code: 'INVALID_SLUG' });
    expect(statements - statementsBefore).toBe(0);
    expect(checkouts - checkoutsBefore).toBe(0);
  });

  it('the counters do see SQL, so the zero above means something', async () => {
    const before = statements;
    await expect(purgeTenant(database, 'no_such_tenant')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    expect(statements).toBeGreaterThan(before);
  });

  it('accepts the longest slug, 56 characters (one more is refused above)', () => {
    const longest = `a${'b'.repeat(55)}`;
    expect(validateSlug(longest)).toBe(longest);
  });

  it('names the problem in the message', () => {
    expect(() => validateSlug('Acme')).toThrow('invalid tenant slug "Acme": slugs are lowercase: did you mean "acme"?');
    expect(() => validateSlug('acme-co')).toThrow(/lowercase letters, digits and underscores/);
    expect(() => validateSlug('pg_x')).toThrow(/pg_ prefix is reserved/);
    expect(() => validateSlug('a'.repeat(64))).toThrow(/2 to 56 characters/);
  });
});
