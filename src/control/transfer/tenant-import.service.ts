import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import split2 from 'split2';
import type { ControlDatabase, Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { isSchemataError } from '../../errors.js';
import type { Template } from '../../migrations/template.js';
import { validateSlug, validateTenantName } from '../registry/slug.js';
import { classifyLine, invalidExport, parseHeader, shown, truncatedExport, type ExportTrailer } from './tenant-export-format.js';
import { insertRowsFromJson, listTenantSequences, listTenantTables, setSequence, type TenantTable } from './tenant-tables.repository.js';
import { migrateTenantInTransaction, provisionTenantInTransaction } from '../tenants/tenant.service.js';
import { NO_MASTER_KEYS, type MasterKeys } from '../settings/settings-cipher.js';
import type { StoredDataKey, StoredSetting } from '../settings/tenant-settings.repository.js';
import { MAX_SETTINGS_PER_TENANT, writeSettingsBundle } from '../settings/tenant-settings.service.js';

export interface ImportTarget {
  readonly slug: string;
  /** The exported tenant's name when absent. */
  readonly name?: string | undefined;
  /**
   * Opens the source's secret settings to seal them anew for the new tenant;
   * without the master key that wrapped the source's data key, a tenant with
   * secrets is refused (SETTINGS_KEY_UNAVAILABLE) and nothing is created.
   */
  readonly settingsKeys?: MasterKeys | undefined;
}

export interface ImportedTenant {
  /** The new tenant, at the template head. */
  readonly tenant: Tenant;
  /** Template version the export was made at; the rows were loaded there, then migrated. */
  readonly fromVersion: number;
  readonly tables: number;
  readonly rows: number;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly sequences: number;
  /** Settings carried over; secrets among them sealed anew under the new tenant's own data key. */
  readonly settings: number;
  readonly durationMs: number;
}

/** Rows per INSERT … SELECT FROM jsonb_array_elements($1): one batch is all an import holds in memory. */
const BATCH_ROWS = 500;
const BATCH_CHARS = 8 * 1024 * 1024;
/** Longest line read; past it the file is refused instead of buffered (a binary file may have no newline at all). */
const MAX_LINE_CHARS = 256 * 1024 * 1024;

/**
 * Restores an export (see tenant-export-format.ts) into a NEW tenant. The
 * header is checked before any SQL. Then one transaction provisions the
 * tenant at the export's template version, loads the rows in batches as they
 * are read, sets the sequences, checks the trailer's counts and migrates the
 * tenant to the head: a bad or cut file leaves no registry row, schema or
 * role behind. Expected failures are SchemataErrors (INVALID_EXPORT,
 * EXPORT_TRUNCATED, EXPORT_TOO_NEW, TENANT_EXISTS, INVALID_SLUG, INVALID_NAME).
 */
export async function importTenant(
  database: Database,
  template: Template,
  input: Readable | AsyncIterable<string | Uint8Array>,
  target: ImportTarget,
): Promise<ImportedTenant> {
  const slug = validateSlug(target.slug);
  const nameOverride = target.name === undefined ? undefined : validateTenantName(target.name);
  const started = performance.now();

  const splitter = split2({ maxLength: MAX_LINE_CHARS });
  const reading = pipeline(input instanceof Readable ? input : Readable.from(input), splitter);
  // A read error also surfaces through the splitter; this only keeps it from being unhandled.
  reading.catch(() => undefined);
  const lines = numbered(splitter);
  try {
    const first = await nextLine(lines);
    const header = parseHeader(first?.text, template);
    let name: string;
    try {
      name = nameOverride ?? validateTenantName(header.tenant.name);
    } catch {
      throw invalidExport("the header's tenant name is not a valid name; name the new tenant explicitly");
    }

    return await database.control.transaction().execute(async (trx) => {
      const provisioned = await provisionTenantInTransaction(trx, template, database, { slug, name, plan: header.tenant.plan }, { toVersion: header.templateVersion }).catch(
        (error: unknown) => {
          // Plans are data (control.plans), so the exporting server may have had one this server lacks.
          if (isSchemataError(error) && error.code === 'PLAN_NOT_FOUND') {
            throw invalidExport(`its tenant is on plan ${shown(header.tenant.plan)}, which this server does not have; create the plan first`, {
              plan: header.tenant.plan,
            });
          }
          throw error;
        },
      );
      const { settings: bundle, ...loaded } = await loadLines(trx, provisioned.schema_name, lines);
      const { tenant } = await migrateTenantInTransaction(trx, template, provisioned);
      const settings = await writeSettingsBundle(trx, target.settingsKeys ?? NO_MASTER_KEYS, { ...bundle, tenantId: bundle.tenantId ?? tenant.id }, tenant.id).catch(
        (error: unknown) => {
          if (isSchemataError(error) && error.code === 'INVALID_SETTING') throw invalidExport(`a setting is not valid: ${error.message}`);
          throw error;
        },
      );
      return { tenant, fromVersion: header.templateVersion, ...loaded, settings, durationMs: performance.now() - started };
    });
  } finally {
    // Stops reading (and closes the file) however the import ended.
    splitter.destroy();
  }
}

interface Loaded {
  readonly tables: number;
  readonly rows: number;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly sequences: number;
  readonly settings: { readonly tenantId: string | undefined; readonly dataKey: StoredDataKey | undefined; readonly settings: StoredSetting[] };
}

async function loadLines(trx: Kysely<ControlDatabase>, schema: string, lines: AsyncGenerator<NumberedLine>): Promise<Loaded> {
  const tables = new Map((await listTenantTables(trx, schema)).map((table) => [table.name, table]));
  const sequences = new Set(await listTenantSequences(trx, schema));
  const rowCounts: Record<string, number> = Object.fromEntries([...tables.keys()].map((name) => [name, 0]));
  let batch: { table: TenantTable; lines: string[]; chars: number; firstLine: number } | undefined;
  const flush = async () => {
    if (!batch) return;
    const { table, firstLine } = batch;
    try {
      await insertRowsFromJson(trx, schema, table, `[${batch.lines.join(',')}]`);
    } catch (error) {
      throw refusedByDatabase(error, `rows of table ${shown(table.name)} from line ${firstLine} on were refused`, { table: table.name });
    }
    rowCounts[table.name]! += batch.lines.length;
    batch = undefined;
  };

  let trailer: ExportTrailer | undefined;
  let sequencesSet = 0;
  const settings: Loaded['settings'] = { tenantId: undefined, dataKey: undefined, settings: [] };
  const settingKeys = new Set<string>();
  let unparsable: number | undefined;
  for (;;) {
    const line = await nextLine(lines);
    if (line === undefined) break;
    // A line that is not JSON is a cut-off file if it is the last one, and a broken file otherwise.
    if (unparsable !== undefined) throw invalidExport(`line ${unparsable} is not valid JSON`);
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch {
      unparsable = line.number;
      continue;
    }
    if (trailer) throw invalidExport(`line ${line.number} comes after the end marker`);
    const parsed = classifyLine(value, line.number);
    if (parsed.kind === 'row') {
      const table = tables.get(parsed.table);
      if (!table) throw invalidExport(`line ${line.number} is a row of table ${shown(parsed.table)}, which this template does not have`, { table: parsed.table });
      const unknown = parsed.columns.find((column) => !table.columns.includes(column));
      if (unknown !== undefined) {
        throw invalidExport(`line ${line.number}: table ${shown(table.name)} has no column ${shown(unknown)}`, { table: table.name, column: unknown });
      }
      if (batch && (batch.table !== table || batch.lines.length >= BATCH_ROWS || batch.chars >= BATCH_CHARS)) await flush();
      batch ??= { table, lines: [], chars: 0, firstLine: line.number };
      batch.lines.push(line.text);
      batch.chars += line.text.length;
    } else if (parsed.kind === 'sequence') {
      await flush();
      if (!sequences.has(parsed.name)) throw invalidExport(`line ${line.number}: this template has no sequence ${shown(parsed.name)}`);
      try {
        await setSequence(trx, schema, parsed.name, parsed.state);
      } catch (error) {
        // A hand-edited value past the sequence's bounds (or bigint's) is the file's fault too.
        throw refusedByDatabase(error, `line ${line.number}: the value ${parsed.state.value} of sequence ${shown(parsed.name)} was refused`, { sequence: parsed.name });
      }
      sequencesSet += 1;
    } else if (parsed.kind === 'dataKey') {
      await flush();
      if (settings.dataKey) throw invalidExport(`line ${line.number}: a second settings data key`);
      Object.assign(settings, { tenantId: parsed.tenantId, dataKey: parsed.key });
    } else if (parsed.kind === 'setting') {
      await flush();
      if (settingKeys.has(parsed.setting.key)) throw invalidExport(`line ${line.number}: setting ${shown(parsed.setting.key)} appears twice`);
      if (settingKeys.size >= MAX_SETTINGS_PER_TENANT) throw invalidExport(`line ${line.number}: more than the ${MAX_SETTINGS_PER_TENANT} settings a tenant may hold`);
      if (parsed.setting.secret && !settings.dataKey) throw invalidExport(`line ${line.number}: secret setting ${shown(parsed.setting.key)} comes without the data key that opens it`);
      settingKeys.add(parsed.setting.key);
      settings.settings.push(parsed.setting);
    } else {
      await flush();
      trailer = parsed.trailer;
    }
  }
  if (unparsable !== undefined) throw truncatedExport(`the last line, ${unparsable}, is cut off`);
  if (!trailer) throw truncatedExport('the end marker is missing');
  checkCounts(trailer, rowCounts, sequencesSet);
  if (Number.isInteger(trailer.settings) && settings.settings.length < trailer.settings!) {
    throw truncatedExport(`${settings.settings.length} of ${trailer.settings} settings are present`);
  }
  // Rows are held to their counts both ways (checkCounts); so are settings.
  if (settings.settings.length > (trailer.settings ?? 0)) throw invalidExport(`it holds ${settings.settings.length} settings where its end marker counts ${trailer.settings ?? 0}`);
  const rows = Object.values(rowCounts).reduce((a, b) => a + b, 0);
  return { tables: tables.size, rows, rowCounts, sequences: sequencesSet, settings };
}

function checkCounts(trailer: ExportTrailer, rowCounts: Readonly<Record<string, number>>, sequences: number): void {
  for (const [table, expected] of Object.entries(trailer.rowCounts)) {
    const found = Object.hasOwn(rowCounts, table) ? rowCounts[table] : undefined;
    if (found === undefined) throw invalidExport(`the end marker counts rows of table ${shown(table)}, which this template does not have`);
    if (found < expected) throw truncatedExport(`table ${shown(table)} has ${found} of its ${expected} rows`);
    if (found > expected) throw invalidExport(`table ${shown(table)} has ${found} rows, but the end marker says ${expected}`);
  }
  const uncounted = Object.keys(rowCounts).find((table) => rowCounts[table]! > 0 && !Object.hasOwn(trailer.rowCounts, table));
  if (uncounted !== undefined) throw invalidExport(`the end marker does not count table ${shown(uncounted)}`);
  if (Number.isInteger(trailer.sequences) && sequences < trailer.sequences) throw truncatedExport(`${sequences} of ${trailer.sequences} sequences are present`);
}

/** Constraint and data errors (SQLSTATE 22, 23) become INVALID_EXPORT saying what was refused; anything else is not the file's fault and passes on. */
function refusedByDatabase(error: unknown, what: string, details: Record<string, unknown>): unknown {
  const code = (error as { code?: unknown }).code;
  if (isSchemataError(error) || typeof code !== 'string' || !/^2[23]/.test(code)) return error;
  return invalidExport(`${what}: ${(error as Error).message}`, { ...details, sqlState: code });
}

interface NumberedLine {
  readonly number: number;
  readonly text: string;
}

async function* numbered(lines: AsyncIterable<string>): AsyncGenerator<NumberedLine> {
  let number = 0;
  for await (const text of lines) {
    number += 1;
    if (text.trim() !== '') yield { number, text };
  }
}

/** The next non-blank line, with read failures (a line too long, an unreadable file) as INVALID_EXPORT. */
async function nextLine(lines: AsyncGenerator<NumberedLine>): Promise<NumberedLine | undefined> {
  try {
    const next = await lines.next();
    return next.done ? undefined : next.value;
  } catch (error) {
    if (isSchemataError(error)) throw error;
    if ((error as Error).message === 'maximum buffer reached') throw invalidExport(`a line is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB`);
    throw invalidExport(`the file cannot be read: ${(error as Error).message}`);
  }
}
