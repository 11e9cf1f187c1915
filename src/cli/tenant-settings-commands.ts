import os from 'node:os';
import { text } from 'node:stream/consumers';
import type { MasterKeys } from '../control/settings/settings-cipher.js';
import { countDataKeysByMasterKey } from '../control/settings/tenant-settings.repository.js';
import {
  deleteTenantSetting,
  listTenantSettings,
  revealTenantSetting,
  rewrapDataKeys,
  rotateTenantDataKey,
  setTenantSetting,
} from '../control/settings/tenant-settings.service.js';
import type { Database } from '../db/database.js';
import { createProgress } from './progress.js';
import { UsageError } from './run-script.js';
import { counted, formatTable } from './table.js';

/** `npm run tenant -- settings set|list|reveal|delete|rotate-key|rewrap …`: run the service, print the result. */

const SETTINGS_ACTIONS = ['set', 'list', 'reveal', 'delete', 'rotate-key', 'rewrap'] as const;
type SettingsAction = (typeof SETTINGS_ACTIONS)[number];

/** The positionals each action takes after its name. */
const ARGUMENTS: Readonly<Record<SettingsAction, readonly string[]>> = {
  set: ['slug', 'key', 'value'],
  list: ['slug'],
  reveal: ['slug', 'key'],
  delete: ['slug', 'key'],
  'rotate-key': ['slug'],
  rewrap: [],
};

export interface SettingsCommand {
  readonly action: SettingsAction;
  readonly slug: string | undefined;
  readonly key: string | undefined;
  /** `-` reads the value from stdin, so a secret stays out of shell history and `ps`. */
  readonly value: string | undefined;
}

/** Reads `<action> [slug] [key] [value]`; a mistake is a UsageError before any connection. */
export function parseSettingsCommand(args: readonly (string | undefined)[]): SettingsCommand {
  const [action, ...rest] = args.filter((a) => a !== undefined);
  if (!SETTINGS_ACTIONS.includes(action as SettingsAction)) throw new UsageError(`settings needs one of ${SETTINGS_ACTIONS.join(', ')}, e.g. settings list <slug>`);
  const wanted = ARGUMENTS[action as SettingsAction];
  if (rest.length !== wanted.length) {
    throw new UsageError(`settings ${action} takes ${wanted.length === 0 ? 'no arguments' : wanted.map((w) => `<${w}>`).join(' ')}`);
  }
  const named = Object.fromEntries(wanted.map((name, i) => [name, rest[i]]));
  return { action: action as SettingsAction, slug: named.slug, key: named.key, value: named.value };
}

/** Resolves to the exit code when it is not 0. */
export async function settingsCommand(
  database: Database,
  keys: MasterKeys,
  command: SettingsCommand,
  options: { readonly json: boolean; readonly secret: boolean },
): Promise<number | void> {
  const slug = command.slug!;
  const key = command.key!;
  switch (command.action) {
    case 'set': {
      // A secret on the command line would stay in shell history and show in `ps`.
      if (options.secret && command.value !== '-') throw new UsageError('a secret is read from stdin: settings set <slug> <key> - --secret, with the value piped in');
      const value = command.value === '-' ? (await text(process.stdin)).replace(/\r?\n$/, '') : command.value!;
      const setting = await setTenantSetting(database, keys, slug, { key, value, secret: options.secret });
      console.log(`set ${setting.secret ? 'secret ' : ''}setting ${setting.key} of tenant ${slug}${setting.secret ? ' (encrypted; `settings reveal` shows it, and is recorded)' : ''}`);
      return;
    }
    case 'list': {
      const settings = await listTenantSettings(database, slug);
      if (options.json) return console.log(JSON.stringify(settings, null, 2));
      if (settings.length === 0) return console.log(`tenant ${slug} has no settings: npm run tenant -- settings set ${slug} <key> <value> [--secret]`);
      console.log(formatTable(settings.map((s) => ({ key: s.key, value: s.secret ? '•••••••• (secret)' : s.value!, updated: s.updatedAt.toISOString() }))));
      console.log(counted(settings.length, 'setting'));
      return;
    }
    case 'reveal': {
      // Recorded with the operating-system user: the CLI has no token subject.
      const { value, recorded } = await revealTenantSetting(database, keys, slug, key, `cli:${os.userInfo().username}`);
      // Only the value on stdout, so it can be piped; the note goes to stderr.
      console.log(value);
      console.error(recorded ? `revealed setting ${key} of tenant ${slug}; the reveal is recorded` : `setting ${key} of tenant ${slug} is plain: nothing to record`);
      return;
    }
    case 'delete':
      await deleteTenantSetting(database, slug, key);
      console.log(`deleted setting ${key} of tenant ${slug}`);
      return;
    case 'rotate-key': {
      const { rotated, secrets } = await rotateTenantDataKey(database, keys, slug);
      console.log(rotated ? `rotated the settings data key of ${slug}: ${counted(secrets, 'secret')} re-encrypted` : `tenant ${slug} has no data key yet (no secret was ever set): nothing to rotate`);
      return;
    }
    case 'rewrap': {
      const current = keys.wrapping().id;
      const total = (await countDataKeysByMasterKey(database.control)).filter((k) => k.masterKeyId !== current).reduce((n, k) => n + k.tenants, 0);
      const progress = createProgress('rewrap');
      const summary = await rewrapDataKeys(database.control, keys, (done, failed) => progress.update(done, total, failed));
      progress.stop();
      console.log(`re-wrapped ${counted(summary.rewrapped, 'tenant data key')} under master key ${summary.masterKeyId}`);
      for (const failure of summary.failed) console.error(`  ${failure.slug}: [${failure.code}] ${failure.message}`);
      if (summary.remaining === 0) {
        console.log('  every data key is wrapped by the current master key: the previous ones can be removed');
        return;
      }
      console.error(`${counted(summary.remaining, 'data key')} still wrapped by another master key: keep the previous master keys until none is`);
      // The exit code runScript sets from this return value: 1, so a rotation script stops before it removes the old key.
      return 1;
    }
  }
}
