import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SchemataError } from '../errors.js';
import { unnamedConstraints } from './constraint-names.js';
import { splitStatements, SqlSyntaxError, type SqlStatement } from './sql-statements.js';

export interface TemplateMigration {
  /** File name, e.g. `0001_create_domain.sql`; also the key recorded in `schema_migrations`. */
  readonly name: string;
  readonly version: number;
  /**
   * The up section's statements, each sent to the server on its own: Citus
   * forwards some DDL to its workers as the query's whole text, and refuses
   * a text that holds several commands.
   */
  readonly up: readonly string[];
  /** Undefined when the file has no down section. */
  readonly down: readonly string[] | undefined;
  /** sha256 of the whole file: an applied file must never change. */
  readonly checksum: string;
  /**
   * Checksums of earlier texts of this file that it replaces with the very
   * same catalog (`-- migrate:supersedes <sha256>` lines); a schema that
   * applied one of them has not drifted.
   */
  readonly supersededChecksums: readonly string[];
}

/** Whether a ledger row's checksum is this file's, now or in a text it supersedes. */
export function acceptsChecksum(migration: TemplateMigration, checksum: string): boolean {
  return checksum === migration.checksum || migration.supersededChecksums.includes(checksum);
}

export interface Template {
  readonly kind: TemplateKind;
  readonly dir: string;
  readonly migrations: readonly TemplateMigration[];
  /** Version of the newest file, 0 when the template is empty. */
  readonly latestVersion: number;
}

export type TemplateKind = 'control' | 'tenant';

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;
const UP_MARKER = /^--\s*migrate:up\s*$/m;
const DOWN_MARKER = /^--\s*migrate:down\s*$/m;
const SUPERSEDES_MARKER = /^--\s*migrate:supersedes\b(.*)$/gm;
const SHA256 = /^[0-9a-f]{64}$/;
/**
 * Citus refuses unnamed PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK and EXCLUDE
 * constraints outside CREATE TABLE, so every file from these versions on
 * names each one (the loader checks). The files before were applied as they
 * are and cannot change: their unnamed constraints are all inside CREATE
 * TABLE, which Citus accepts, or in the control schema, which stays on the
 * coordinator. Tenant 0002 did add an unnamed CHECK column; it now names
 * every constraint as PostgreSQL named it and supersedes its old text.
 */
const NAMED_CONSTRAINTS_FROM: Readonly<Record<TemplateKind, number>> = { control: 6, tenant: 2 };
/**
 * Tenant files run once per tenant with search_path set to that tenant; a
 * schema-qualified name would make every tenant touch the same schema.
 */
const SCHEMA_QUALIFIED = /\b(public|control|pg_temp|tenant_[0-9a-z_]+)\s*\.\s*["a-z_]/i;

/** Reads and checks `<templatesDir>/<kind>/NNNN_*.sql`, in version order. */
export async function loadTemplate(templatesDir: string, kind: TemplateKind): Promise<Template> {
  const dir = path.join(templatesDir, kind);
  const invalid = (file: string, problem: string): never => {
    throw new SchemataError('INVALID_TEMPLATE', `invalid template ${path.join(dir, file)}: ${problem}`);
  };
  let files: string[];
  try {
    files = (await fs.readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  } catch {
    return invalid('', 'the directory cannot be read');
  }

  const migrations: TemplateMigration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) invalid(file, `migration files are named NNNN_verb_object.sql`);
    const version = Number(match![1]);
    const previous = migrations.at(-1);
    if (previous && previous.version === version) invalid(file, `version ${match![1]} is used twice`);

    const text = await fs.readFile(path.join(dir, file), 'utf8');
    const upMarker = UP_MARKER.exec(text);
    if (!upMarker) return invalid(file, `missing a "-- migrate:up" line`);
    const downMarker = DOWN_MARKER.exec(text);
    if (downMarker && downMarker.index < upMarker.index) invalid(file, `"-- migrate:down" must come after "-- migrate:up"`);
    const upStart = upMarker.index + upMarker[0].length;
    const upText = text.slice(upStart, downMarker?.index);
    const downStart = downMarker ? downMarker.index + downMarker[0].length : text.length;
    const downText = text.slice(downStart);
    if (kind === 'tenant') {
      const qualified = SCHEMA_QUALIFIED.exec(withoutComments(text));
      if (qualified) invalid(file, `names schema "${qualified[1]}"; tenant templates must not name a schema`);
    }
    const statementsOf = async (section: 'up' | 'down', start: number, sectionText: string): Promise<SqlStatement[]> => {
      try {
        return await splitStatements(sectionText);
      } catch (error) {
        if (!(error instanceof SqlSyntaxError)) throw error;
        const line = error.line === undefined ? '' : ` (line ${lineOf(text, start) + error.line - 1})`;
        return invalid(file, `the ${section} section does not parse${line}: ${error.message}`);
      }
    };
    const up = await statementsOf('up', upStart, upText);
    const down = await statementsOf('down', downStart, downText);
    if (up.length === 0) invalid(file, `the up section is empty`);
    if (version >= NAMED_CONSTRAINTS_FROM[kind]) {
      const unnamed = [...up, ...down].flatMap((statement) => unnamedConstraints(statement.tree));
      if (unnamed.length > 0) {
        const list = unnamed.map((c) => `${c.kind} on ${c.on}`).join(', ');
        invalid(file, `every constraint needs a name (CONSTRAINT <name> …), since Citus refuses unnamed ones; unnamed: ${list}`);
      }
    }
    migrations.push({
      name: file,
      version,
      up: up.map((statement) => statement.text),
      // A down section of only comments is still one: reverting runs nothing.
      down: downText.trim() === '' ? undefined : down.map((statement) => statement.text),
      checksum: createHash('sha256').update(text).digest('hex'),
      supersededChecksums: supersededChecksums(text, upMarker.index, (problem) => invalid(file, problem)),
    });
  }
  return { kind, dir, migrations, latestVersion: migrations.at(-1)?.version ?? 0 };
}

/** The checksums named by `-- migrate:supersedes` lines, which belong in the header, before `-- migrate:up`. */
function supersededChecksums(text: string, upAt: number, invalid: (problem: string) => never): string[] {
  return [...text.matchAll(SUPERSEDES_MARKER)].flatMap((match) => {
    if (match.index > upAt) invalid(`"-- migrate:supersedes" belongs before "-- migrate:up"`);
    const checksums = match[1]!.trim().split(/\s+/);
    for (const checksum of checksums) {
      if (!SHA256.test(checksum)) invalid(`"-- migrate:supersedes" takes sha256 checksums in lowercase hex, not "${checksum}"`);
    }
    return checksums;
  });
}

/** 1-based line of the character at `at`. */
function lineOf(text: string, at: number): number {
  return text.slice(0, at).split('\n').length;
}

function withoutComments(sqlText: string): string {
  return sqlText.replace(/--[^\n]*/g, '').replace(/'(?:[^']|'')*'/g, "''");
}

export interface Templates {
  readonly control: Template;
  readonly tenant: Template;
}

export async function loadTemplates(templatesDir: string): Promise<Templates> {
  const [control, tenant] = await Promise.all([loadTemplate(templatesDir, 'control'), loadTemplate(templatesDir, 'tenant')]);
  return { control, tenant };
}
