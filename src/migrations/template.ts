import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SchemataError } from '../errors.js';

export interface TemplateMigration {
  /** File name, e.g. `0001_create_domain.sql`; also the key recorded in `schema_migrations`. */
  readonly name: string;
  readonly version: number;
  readonly up: string;
  readonly down: string | undefined;
  /** sha256 of the whole file: an applied file must never change. */
  readonly checksum: string;
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
    const upAt = text.search(UP_MARKER);
    if (upAt < 0) invalid(file, `missing a "-- migrate:up" line`);
    const downAt = text.search(DOWN_MARKER);
    if (downAt >= 0 && downAt < upAt) invalid(file, `"-- migrate:down" must come after "-- migrate:up"`);
    const up = text.slice(upAt, downAt >= 0 ? downAt : undefined).replace(UP_MARKER, '').trim();
    const down = downAt >= 0 ? text.slice(downAt).replace(DOWN_MARKER, '').trim() : '';
    if (up === '') invalid(file, `the up section is empty`);
    if (kind === 'tenant') {
      const qualified = SCHEMA_QUALIFIED.exec(withoutComments(text));
      if (qualified) invalid(file, `names schema "${qualified[1]}"; tenant templates must not name a schema`);
    }
    migrations.push({
      name: file,
      version,
      up,
      down: down === '' ? undefined : down,
      checksum: createHash('sha256').update(text).digest('hex'),
    });
  }
  return { kind, dir, migrations, latestVersion: migrations.at(-1)?.version ?? 0 };
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
