import { describe, expect, it } from 'vitest';
import { unnamedConstraints } from '../../src/migrations/constraint-names.js';
import { splitStatements } from '../../src/migrations/sql-statements.js';

async function unnamedIn(text: string) {
  return (await splitStatements(text)).flatMap((statement) => unnamedConstraints(statement.tree));
}

describe('finding unnamed constraints', () => {
  it('finds each kind wherever it is written: columns, table constraints, ALTER TABLE, domains', async () => {
    expect(
      await unnamedIn(`
        CREATE TABLE a (
          id    int PRIMARY KEY,
          code  text UNIQUE CHECK (code <> ''),
          b_id  int REFERENCES b (id),
          span  tstzrange,
          UNIQUE (code, b_id),
          FOREIGN KEY (b_id) REFERENCES b (id),
          CHECK (b_id > 0),
          EXCLUDE USING gist (span WITH &&)
        );
        ALTER TABLE users ADD COLUMN password_hash text CHECK (password_hash LIKE 'scrypt$%'), ADD PRIMARY KEY (id);
        ALTER TABLE users ADD CONSTRAINT named UNIQUE (email), ADD UNIQUE (name);
        CREATE DOMAIN positive AS int CHECK (VALUE > 0);
        ALTER DOMAIN positive ADD CHECK (VALUE < 100);
      `),
    ).toEqual([
      { kind: 'PRIMARY KEY', on: 'a.id' },
      { kind: 'UNIQUE', on: 'a.code' },
      { kind: 'CHECK', on: 'a.code' },
      { kind: 'FOREIGN KEY', on: 'a.b_id' },
      { kind: 'UNIQUE', on: 'a (code, b_id)' },
      { kind: 'FOREIGN KEY', on: 'a.b_id' },
      { kind: 'CHECK', on: 'a' },
      { kind: 'EXCLUDE', on: 'a' },
      { kind: 'CHECK', on: 'users.password_hash' },
      { kind: 'PRIMARY KEY', on: 'users.id' },
      { kind: 'UNIQUE', on: 'users.name' },
      { kind: 'CHECK', on: 'positive' },
      { kind: 'CHECK', on: 'positive' },
    ]);
  });

  it('passes named constraints, and NOT NULL, DEFAULT, identity and generated columns, which need no name', async () => {
    expect(
      await unnamedIn(`
        CREATE TABLE a (
          id    bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT a_pkey PRIMARY KEY,
          code  text NOT NULL DEFAULT 'x' CONSTRAINT a_code_key UNIQUE CONSTRAINT a_code_check CHECK (code <> ''),
          size  int GENERATED ALWAYS AS (length(code)) STORED,
          CONSTRAINT a_code_id_key UNIQUE (code, id)
        );
        ALTER TABLE users ADD COLUMN password_hash text NULL CONSTRAINT users_password_hash_check CHECK (password_hash LIKE 'scrypt$%');
        ALTER TABLE users ALTER COLUMN name SET NOT NULL, ADD CONSTRAINT users_a_fkey FOREIGN KEY (id) REFERENCES a (id);
        CREATE DOMAIN positive AS int NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0);
      `),
    ).toEqual([]);
  });
});
