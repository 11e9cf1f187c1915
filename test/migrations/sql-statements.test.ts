import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { splitStatements, SqlSyntaxError } from '../../src/migrations/sql-statements.js';
import { openTestDatabase } from '../helpers/test-database.js';

// Multi-byte characters before each statement: the parser's offsets count
// bytes, so slicing the JS string by them would cut the statements short.
const TEXT = `-- Ünïcödé comment — with a dash: ;
SELECT 'a;b' AS semicolon_in_string, 'it''s' AS quote;

/* ümlaut ; in a block comment */
CREATE FUNCTION pg_temp.twice(n int) RETURNS int LANGUAGE plpgsql AS $body$
BEGIN
  RETURN n * 2; -- a ; in the body
END
$body$;
-- ✓ last, with no semicolon
SELECT pg_temp.twice(21) AS answer
`;

describe('splitting SQL into statements', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it("keeps a string's and a dollar-quoted body's semicolons, and each statement's exact text", async () => {
    const statements = await splitStatements(TEXT);
    expect(statements.map((s) => s.text)).toEqual([
      "SELECT 'a;b' AS semicolon_in_string, 'it''s' AS quote",
      'CREATE FUNCTION pg_temp.twice(n int) RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN n * 2; -- a ; in the body\nEND\n$body$',
      'SELECT pg_temp.twice(21) AS answer',
    ]);
    expect(statements.map((s) => Object.keys(s.tree)[0])).toEqual(['SelectStmt', 'CreateFunctionStmt', 'SelectStmt']);
  });

  it('gives statements PostgreSQL runs one by one, to the same result as the whole text', async () => {
    const statements = await splitStatements(TEXT);
    const answers = await database.control.connection().execute(async (connection) => {
      const results = [];
      for (const statement of statements) results.push((await sql.raw<Record<string, unknown>>(statement.text).execute(connection)).rows);
      await sql`DROP FUNCTION pg_temp.twice(int)`.execute(connection);
      return results;
    });
    expect(answers).toEqual([[{ semicolon_in_string: 'a;b', quote: "it's" }], [], [{ answer: 42 }]]);
  });

  it('gives no statement for empty or comment-only text', async () => {
    expect(await splitStatements('')).toEqual([]);
    expect(await splitStatements('  \n-- only a comment\n/* and another */\n')).toEqual([]);
  });

  it("refuses text that does not parse with the parser's message and the line it stopped at", async () => {
    const failure = splitStatements("-- é ✓ 🙂\nSELECT 1;\nSELEC 'ü' FROM x;\n").catch((error: unknown) => error);
    await expect(failure).resolves.toBeInstanceOf(SqlSyntaxError);
    await expect(failure).resolves.toMatchObject({ message: 'syntax error at or near "SELEC"', line: 3 });
  });
});
