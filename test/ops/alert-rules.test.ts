import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer } from '../helpers/test-server.js';

const OPS = path.join(PROJECT_ROOT, 'ops');
const PROMTOOL = ['/usr/bin/promtool'].find((candidate) => spawnSync(candidate, ['--version']).status === 0);
// CI installs Debian's prometheus (.ci/run) and must run these; a developer machine without it skips them, saying why.
const CI = process.env.CI === 'true';
if (!PROMTOOL) console.warn(`promtool is not installed: ${CI ? 'the alert-rule checks fail, as CI must run them' : 'skipping them (apt-get install prometheus)'}`);

const promtool = (...args: string[]) => {
  const run = spawnSync(PROMTOOL ?? 'promtool', args, { cwd: path.join(OPS, 'prometheus'), encoding: 'utf8' });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
};

describe('alerts and the dashboard', () => {
  it.runIf(PROMTOOL || CI)('promtool accepts the rules, and each alert fires on its own series and not on its neighbour’s', () => {
    const checked = promtool('check', 'rules', 'alerts.yml');
    expect(checked.output).toContain('SUCCESS: 6 rules found');
    expect(checked.code).toBe(0);
    const tested = promtool('test', 'rules', 'alerts.test.yml');
    expect(tested.output).toContain('SUCCESS');
    expect(tested.code).toBe(0);
  });

  it('every schemata metric the alerts and the dashboard read is one a server exports', async () => {
    const sources = [await fs.readFile(path.join(OPS, 'prometheus/alerts.yml'), 'utf8'), await fs.readFile(path.join(OPS, 'grafana/schemata-dashboard.json'), 'utf8')];
    const named = new Set(sources.flatMap((text) => [...text.matchAll(/\bschemata_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))));
    // The dashboard's exprs are PromQL too: it is valid JSON with a query per panel.
    const dashboard = JSON.parse(sources[1]!) as { panels: { targets: { expr: string }[] }[] };
    expect(dashboard.panels.every((panel) => panel.targets.length > 0 && panel.targets.every((t) => t.expr.includes('schemata_')))).toBe(true);

    const server = await startTestServer();
    try {
      const tenant = await seedTenant(server.database, await tenantTemplate(), 'alerts');
      await server.graphql(tenant.slug, '{ tenant { slug } }');
      const exported = await server.services.metrics.registry.metrics();
      const missing = [...named].filter((name) => !exported.includes(`# TYPE ${name} `));
      expect(named.size).toBeGreaterThanOrEqual(7);
      expect(missing).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
