import fs from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import type { Tenant } from '../../src/db/control-database.js';
import { listen, type RunningHttpServer } from '../../src/server/http/http-server.js';
import { CHROMIUM, launchChromium } from '../helpers/browser.js';
import { seedTenant, tenantTemplate } from '../helpers/test-database.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

// CI installs chromium (.ci/run) and must run this file; a developer machine without it skips it, saying why.
const CI = process.env.CI === 'true';
if (!CHROMIUM) console.warn(`chromium is not installed: ${CI ? 'this suite fails, as CI must run it' : 'skipping the GraphiQL browser suite (apt-get install chromium)'}`);

const SCREENSHOT = path.join(PROJECT_ROOT, '.data', 'screenshots', 'graphiql-subscription.png');

/**
 * Replaces a Monaco editor's text as a user's paste would. Monaco closes
 * brackets and indents after inserted text, so the text is one line and
 * whatever Monaco added after the cursor is deleted.
 */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(editor).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
  await page.keyboard.press('ControlOrMeta+Shift+End');
  await page.keyboard.press('Delete');
  // Back to the start of the line, so the screenshot shows what was typed.
  await page.keyboard.press('ControlOrMeta+Home');
}

/** The result pane's text without whitespace: Monaco wraps long strings such as ids across lines. */
const resultText = async (page: Page) => (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, '');

describe.skipIf(!CHROMIUM && !CI)('GraphiQL in a browser', () => {
  let server: TestServer;
  let http: RunningHttpServer;
  let browser: Browser;
  let tenant: Tenant;
  let projectId: string;

  beforeAll(async () => {
    server = await startTestServer();
    tenant = await seedTenant(server.database, await tenantTemplate(), 'graphiql');
    const created = await server.graphql<{ createProject: { id: string } }>(tenant.slug, 'mutation { createProject(input: { name: "Engine" }) { id } }');
    projectId = created.body.data!.createProject.id;
    http = await listen(server.yoga, 0);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await http?.close({ graceMs: 0, timeoutMs: 1_000 });
    await server?.close();
  });

  it('runs a subscription over SSE and shows the deployment committed after it started', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${http.port}/graphql`);
    // The headers tab is open because the server fills in an example tenant header.
    const headersEditor = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
    await page.locator(`${headersEditor} .monaco-editor`).waitFor();
    const token = await server.tokenFor(tenant.slug, 'viewer');
    await replaceEditorText(page, headersEditor, JSON.stringify({ 'X-Tenant-ID': tenant.slug, Authorization: `Bearer ${token}` }));
    await replaceEditorText(page, '.graphiql-query-editor .graphiql-editor', 'subscription DeploymentFeed { deploymentChanged { id status } }');
    // GraphiQL reads the operation name from the editor after a debounce; run before that and it asks for the example's.
    await expect.poll(() => page.locator('.graphiql-tab-active').innerText()).toBe('DeploymentFeed');
    await page.locator('.graphiql-execute-button').click();

    // The server holds the browser's stream, and the result pane is empty: no event and no error before the commit.
    const streamAndResult = async () => ({ streams: server.services.rowChanges.size, result: await resultText(page) });
    await expect.poll(streamAndResult, { timeout: 10_000 }).toEqual({ streams: 1, result: '' });

    const created = await server.graphql<{ createDeployment: { id: string } }>(
      tenant.slug,
      'mutation($p: ID!) { createDeployment(input: { projectId: $p }) { id } }',
      { p: projectId },
      { as: 'member' },
    );
    const deploymentId = created.body.data!.createDeployment.id;
    await expect.poll(() => resultText(page), { timeout: 10_000 }).toContain(`{"data":{"deploymentChanged":{"id":"${deploymentId}","status":"PENDING"}}}`);

    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    await page.close();
  });
});
