import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { MasterKeys } from '../../src/control/settings/settings-cipher.js';
import { setTenantSetting } from '../../src/control/settings/tenant-settings.service.js';
import type { Database } from '../../src/db/database.js';
import { runCli } from '../helpers/run-cli.js';
import { runProcess, TSX } from '../helpers/run-process.js';
import { openTestDatabase, seedTenant, tenantTemplate } from '../helpers/test-database.js';

const MASTER = { SETTINGS_MASTER_KEY: randomBytes(32).toString('base64') };
const SECRET = 'xoxb-cli-secret-value';

// Each call starts Node and tsx (about a second, more on a loaded machine).
describe('tenant settings from the CLI', { timeout: 240_000 }, () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database.close());

  it('set (a secret from stdin), list masked, reveal to stdout only, rotate-key, rewrap and delete', async () => {
    const tenant = await seedTenant(database, await tenantTemplate(), 'cli_set');
    // A tenant whose data key is under a master key none of the commands below is given.
    const stranger = await seedTenant(database, await tenantTemplate(), 'cli_set_other');
    await setTenantSetting(database, MasterKeys.fromKeys(randomBytes(32)), stranger.slug, { key: 'other', value: 'x', secret: true });
    const cli = (args: string[], env: Record<string, string> = MASTER) => runCli('tenant', ['settings', ...args], env);

    // From stdin, so the secret is in no argv and no shell history.
    const piped = await runProcess('bash', ['-c', `printf '%s\\n' "$VALUE" | "${TSX}" scripts/tenant.ts settings set ${tenant.slug} slack.token - --secret`], {
      DATABASE_URL: inject('databaseUrl'),
      VALUE: SECRET,
      ...MASTER,
    });
    expect([piped.code, piped.stdout.trim()]).toEqual([0, `set secret setting slack.token of tenant ${tenant.slug} (encrypted; \`settings reveal\` shows it, and is recorded)`]);
    expect((await cli(['set', tenant.slug, 'beta', 'on'])).stdout.trim()).toBe(`set setting beta of tenant ${tenant.slug}`);

    const listed = await cli(['list', tenant.slug]);
    expect(listed.stdout).toMatch(/^KEY\s+VALUE\s+UPDATED\nbeta\s+on\s+\S+\nslack\.token\s+•+ \(secret\)\s+\S+\n2 settings\n$/);
    expect(listed.stdout).not.toContain(SECRET);

    const revealed = await cli(['reveal', tenant.slug, 'slack.token']);
    expect([revealed.code, revealed.stdout]).toEqual([0, `${SECRET}\n`]);
    expect(revealed.stderr).toMatch(new RegExp(`^revealed setting slack\\.token of tenant ${tenant.slug}; the reveal is recorded$`, 'm'));
    const reveals = await sql<{ revealed_by: string }>`SELECT revealed_by FROM control.tenant_setting_reveals WHERE tenant_id = ${tenant.id}`.execute(database.control);
    expect(reveals.rows).toEqual([{ revealed_by: expect.stringMatching(/^cli:.+/) }]);

    // The wrong master key: loud, coded, and no value.
    const wrong = await cli(['reveal', tenant.slug, 'slack.token'], { SETTINGS_MASTER_KEY: randomBytes(32).toString('base64') });
    expect([wrong.code, wrong.stdout]).toEqual([1, '']);
    expect(wrong.stderr).toMatch(/^error \[SETTINGS_KEY_UNAVAILABLE\]: the tenant's data key is wrapped by master key [0-9a-f]{16}, which this process does not have/m);

    expect((await cli(['rotate-key', tenant.slug])).stdout.trim()).toBe(`rotated the settings data key of ${tenant.slug}: 1 secret re-encrypted`);

    // Master key rotation: the new key current, the old one previous, then rewrap; the old key alone no longer opens it.
    const next = { SETTINGS_MASTER_KEY: randomBytes(32).toString('base64'), SETTINGS_PREVIOUS_MASTER_KEYS: MASTER.SETTINGS_MASTER_KEY };
    const rewrap = await cli(['rewrap'], next);
    expect(rewrap.stdout).toMatch(/^re-wrapped \d+ tenant data keys? under master key [0-9a-f]{16}/m);
    // A data key under a master key the rewrap lacks (as other tests' tenants in this database are too): exit 1, the old keys must stay.
    expect([rewrap.code, rewrap.stderr]).toEqual([1, expect.stringMatching(/^\d+ data keys? still wrapped by another master key: keep the previous master keys until none is$/m)]);
    expect(rewrap.stderr).toMatch(new RegExp(`^  ${stranger.slug}: \\[SETTINGS_KEY_UNAVAILABLE\\]`, 'm'));
    expect((await cli(['reveal', tenant.slug, 'slack.token'], { SETTINGS_MASTER_KEY: next.SETTINGS_MASTER_KEY })).stdout).toBe(`${SECRET}\n`);
    expect((await cli(['reveal', tenant.slug, 'slack.token'])).code).toBe(1);

    expect((await cli(['delete', tenant.slug, 'beta'])).stdout.trim()).toBe(`deleted setting beta of tenant ${tenant.slug}`);
    const bad = await cli(['set', tenant.slug, 'Bad Key', 'x']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringMatching(/^error \[INVALID_SETTING\]: a setting key is 1 to 63 characters/m)]);
    // A secret in argv is refused before anything is written: it would stay in shell history and in `ps`.
    const argv = await cli(['set', tenant.slug, 'argv.secret', 'in-argv-value', '--secret']);
    expect([argv.code, argv.stderr]).toEqual([2, expect.stringContaining('a secret is read from stdin')]);
    expect((await cli(['list', tenant.slug])).stdout).not.toContain('argv.secret');
    const usage = await cli(['set', tenant.slug, 'only-a-key']);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining('settings set takes <slug> <key> <value>')]);
  });
});
