import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import { assertTenantSchemaName } from '../../db/identifiers.js';
import type { AnyKysely } from '../../db/any-kysely.js';

/*
 * Catalog and row SQL for export, import and clone. Every table, column and
 * sequence name used here was read from the catalog of a tenant schema (or
 * checked against such a list by the caller) and is quoted with sql.id, or,
 * where Postgres wants a regclass, passed as a bound parameter for Postgres
 * to quote; no text from a file or a request reaches SQL except as a bound
 * parameter.
 */

/** The Umzug ledger: rebuilt by migrating, never copied as data. */
const LEDGER_TABLE = 'schema_migrations';

export interface TenantTable {
  readonly name: string;
  /** Every live column, in table order (what `to_jsonb(row)` holds). */
  readonly columns: readonly string[];
  /** The columns an INSERT may name: generated columns are computed again instead. */
  readonly insertable: readonly string[];
}

export interface SequenceState {
  /** bigint, as text. */
  readonly value: string;
  readonly isCalled: boolean;
}

/**
 * The schema's data tables, parents before children: a table comes after
 * every table its foreign keys reference, so rows load in this order without
 * deferring constraints. Self-references are ignored; tables in a foreign-key
 * cycle come last, by name.
 */
export async function listTenantTables(db: AnyKysely, schema: string): Promise<TenantTable[]> {
  const result = await sql<{ name: string; columns: string[]; insertable: string[]; references: string[] }>`
    SELECT c.relname::text AS name,
           array(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
           array(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum) AS insertable,
           array(SELECT DISTINCT r.relname::text FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
                 WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.confrelid <> c.oid AND r.relnamespace = c.relnamespace) AS references
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${assertTenantSchemaName(schema)} AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> ${LEDGER_TABLE}
    ORDER BY c.relname`.execute(db);
  const order = dependencyOrder(new Map(result.rows.map((row) => [row.name, row.references])));
  const byName = new Map(result.rows.map((row) => [row.name, { name: row.name, columns: row.columns, insertable: row.insertable }]));
  return order.map((name) => byName.get(name)!);
}

/** Kahn's algorithm over `references` (table → tables it points at), ties broken by name. */
function dependencyOrder(references: ReadonlyMap<string, readonly string[]>): string[] {
  const waitingOn = new Map([...references].map(([table, refs]) => [table, new Set(refs.filter((ref) => references.has(ref)))]));
  const order: string[] = [];
  for (;;) {
    const ready = [...waitingOn].filter(([, refs]) => refs.size === 0).map(([table]) => table).sort();
    if (ready.length === 0) break;
    for (const table of ready) {
      order.push(table);
      waitingOn.delete(table);
      for (const refs of waitingOn.values()) refs.delete(table);
    }
  }
  return [...order, ...[...waitingOn.keys()].sort()];
}

export async function listTenantSequences(db: AnyKysely, schema: string): Promise<string[]> {
  const result = await sql<{ name: string }>`
    SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${assertTenantSchemaName(schema)} AND c.relkind = 'S' ORDER BY c.relname`.execute(db);
  return result.rows.map((row) => row.name);
}

export async function readSequence(db: AnyKysely, schema: string, sequence: string): Promise<SequenceState> {
  const result = await sql<{ value: string; isCalled: boolean }>`
    SELECT last_value::text AS value, is_called AS "isCalled" FROM ${sql.id(assertTenantSchemaName(schema), sequence)}`.execute(db);
  return result.rows[0]!;
}

export async function setSequence(db: AnyKysely, schema: string, sequence: string, state: SequenceState): Promise<void> {
  await sql`SELECT setval(${regclass(schema, sequence)}, ${state.value}::bigint, ${state.isCalled})`.execute(db);
}

/** Sets a sequence of `toSchema` to where the same-named sequence of `fromSchema` stands. */
export async function copySequence(db: AnyKysely, fromSchema: string, toSchema: string, sequence: string): Promise<void> {
  await sql`SELECT setval(${regclass(toSchema, sequence)}, last_value, is_called)
    FROM ${sql.id(assertTenantSchemaName(fromSchema), sequence)}`.execute(db);
}

/**
 * A cursor's query over a table's rows, each as the JSON Postgres itself
 * writes (exact timestamps, numerics, jsonb), without the `omit` columns.
 */
export function rowsAsJsonQuery(db: AnyKysely, schema: string, table: string, omit: readonly string[] = []): CompiledQuery {
  const row = omit.length > 0 ? sql`to_jsonb(t) - ${[...omit]}::text[]` : sql`to_jsonb(t)`;
  return sql`SELECT (${row})::text AS row FROM ${sql.id(assertTenantSchemaName(schema), table)} AS t`.compile(db);
}

/**
 * Inserts a batch of export lines (`{"table": …, "row": {…}}`, joined into
 * one JSON array) into `table`. Postgres parses the rows back into the
 * table's types, so no value passes through a JavaScript number or Date.
 * Returns the number of rows inserted.
 */
export async function insertRowsFromJson(db: AnyKysely, schema: string, table: TenantTable, linesAsJsonArray: string): Promise<number> {
  const target = sql.id(assertTenantSchemaName(schema), table.name);
  const columns = sql.join(table.insertable.map((column) => sql.id(column)));
  const selected = sql.join(table.insertable.map((column) => sql.id('r', column)));
  const result = await sql`
    INSERT INTO ${target} (${columns}) OVERRIDING SYSTEM VALUE
    SELECT ${selected} FROM jsonb_array_elements(${linesAsJsonArray}::jsonb) AS line,
         LATERAL jsonb_populate_record(NULL::${target}, line -> 'row') AS r`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Copies every row of `table` from one tenant schema to another, inside the database. Returns the row count. */
export async function copyTableRows(db: AnyKysely, fromSchema: string, toSchema: string, table: TenantTable): Promise<number> {
  const columns = sql.join(table.insertable.map((column) => sql.id(column)));
  const result = await sql`
    INSERT INTO ${sql.id(assertTenantSchemaName(toSchema), table.name)} (${columns}) OVERRIDING SYSTEM VALUE
    SELECT ${columns} FROM ${sql.id(assertTenantSchemaName(fromSchema), table.name)}`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** setval wants a regclass: Postgres quotes the names, which arrive as bound parameters. */
function regclass(schema: string, name: string): RawBuilder<unknown> {
  return sql`format('%I.%I', ${assertTenantSchemaName(schema)}::text, ${name}::text)::regclass`;
}
