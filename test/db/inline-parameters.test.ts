import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { inlineParameters } from '../../src/db/inline-parameters.js';
import { openTestDatabase } from '../helpers/test-database.js';

const HOSTILE = ["'); DROP TABLE control.tenants; --", "\\'; SELECT 1; --", 'a\\b\\\\c', '$1 $2 $$ $t$', 'ünïcødé ✓ 𝄞', "it''s", '', ' ', '--', '/*', '"quoted"', 'E\'x\''];

describe('inlining parameters into a statement', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('replaces placeholders only where they are placeholders', () => {
    const text = `SELECT "a$1", 'x $1 ''$2', E'\\' $1', $1, $2::int, $$ $1 $$, $t$ $2 $t$ /* $1 /* $2 */ */ -- $1\n x$1, $3`;
    expect(inlineParameters(text, ["o'k", 5, [1, 'a']])).toBe(`SELECT "a$1", 'x $1 ''$2', E'\\' $1', 'o''k', '5'::int, $$ $1 $$, $t$ $2 $t$ /* $1 /* $2 */ */ -- $1\n x$1, '{"1","a"}'`);
  });

  it.each([
    ['a placeholder with no value', 'SELECT $2', [1]],
    ['an unterminated string', "SELECT 'x $1", [1]],
    ['an unterminated identifier', 'SELECT "x $1', [1]],
    ['an unterminated comment', 'SELECT /* $1', [1]],
    ['an unterminated dollar quote', 'SELECT $q$ $1', [1]],
    ['bytes, which have no text literal', 'SELECT $1', [Buffer.from('x')]],
  ])('gives up (the caller sends parameters) on %s', (_label, text, values) => {
    expect(inlineParameters(text, values)).toBeUndefined();
  });

  it('gives PostgreSQL the same values as parameters would, hostile text included', async () => {
    const values: unknown[] = [...HOSTILE, null, 0, -5, 2.5, 1e21, 12345678901234567890n, true, false, new Date('2026-02-03T04:05:06.789Z'), ['a', "b'c", null, '\\'], { k: "v'\\" }];
    const text = `SELECT ${values.map((_, i) => `$${i + 1}::text AS v${i}`).join(', ')}`;
    const inlined = inlineParameters(text, values)!;
    // No placeholder is left outside a literal (a value may well contain "$1").
    expect(inlineParameters(inlined, [])).toBe(inlined);
    const viaParameters = (await database.pool.query(text, values)).rows[0];
    const viaLiterals = (await database.pool.query(inlined)).rows[0];
    expect(viaLiterals).toEqual(viaParameters);
    // The hostile strings came back as data: nothing was executed.
    expect(Object.values(viaLiterals as object).slice(0, HOSTILE.length)).toEqual(HOSTILE);
  });

  it('types an inlined value from its context, as an untyped parameter is', async () => {
    const text = `SELECT $1::int + 1 AS n, now() > $2 AS past, $3 = ANY('{a,b}'::text[]) AS member, (SELECT count(*) FROM generate_series(1, 10) LIMIT $4) AS c`;
    const values = [41, new Date('2000-01-01T00:00:00Z'), 'b', 3];
    expect((await database.pool.query(inlineParameters(text, values)!)).rows[0]).toEqual((await database.pool.query(text, values)).rows[0]);
  });
});
