import { html } from '../vendor/preact.js';
import { formatBytes, formatNumber, graphql } from '../api.js';
import { DayChart, Failure, useLoad } from '../widgets.js';

const FLEET = `{
  fleet { total activeTenantsLast7Days latestTemplateVersion byStatus { value count } byPlan { value count } byTemplateVersion { value count } }
  requestsByDay(days: 30) { day requests errors }
  byStorage: topTenants(by: STORAGE, first: 5) { tenant { slug name } value }
  byRequests: topTenants(by: REQUESTS, first: 5) { tenant { slug name } value }
}`;

const counts = (rows, label = (v) => v) => rows.map((r) => html`<div>${label(r.value)}: <strong>${formatNumber(r.count)}</strong></div>`);

/** The fleet at a glance: tenants by status, plan and version, requests per day, the largest tenants, who is behind. */
export function FleetPage() {
  const { data, error } = useLoad(async () => {
    const fleet = await graphql(FLEET);
    const latest = fleet.fleet.latestTemplateVersion;
    const older = fleet.fleet.byTemplateVersion.map((c) => Number(c.value)).filter((v) => v < latest);
    // Only the tenants concerned, a page of them: the fleet may be large.
    const behind = older.length ? (await graphql('query($v: [Int!]) { tenants(version: $v, status: [ACTIVE, SUSPENDED], first: 20) { slug templateVersion } tenantCount(version: $v, status: [ACTIVE, SUSPENDED]) }', { v: older })) : { tenants: [], tenantCount: 0 };
    return { ...fleet, behind };
  }, []);
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const { fleet, requestsByDay, byStorage, byRequests, behind } = data;
  const ranking = (rows, format) =>
    html`<table><thead><tr><th>tenant</th><th class="num">${format === formatBytes ? 'storage' : 'requests (30 days)'}</th></tr></thead><tbody>
      ${rows.map((r) => html`<tr><td><a href=${`#/tenant/${r.tenant.slug}`}>${r.tenant.slug}</a> <span class="muted">${r.tenant.name}</span></td><td class="num">${format(r.value)}</td></tr>`)}
      ${rows.length === 0 && html`<tr><td colspan="2" class="muted">none yet</td></tr>`}
    </tbody></table>`;
  return html`<section>
    <h1>Fleet</h1>
    <div class="cards">
      <div class="card"><div class="muted">tenants</div><div class="big" data-test="fleet-total">${formatNumber(fleet.total)}</div><div class="muted">${fleet.activeTenantsLast7Days} active in the last 7 days</div></div>
      <div class="card"><div class="muted">by status</div>${counts(fleet.byStatus)}</div>
      <div class="card"><div class="muted">by plan</div>${counts(fleet.byPlan)}</div>
      <div class="card"><div class="muted">by template version (head v${fleet.latestTemplateVersion})</div>${counts(fleet.byTemplateVersion, (v) => `v${v}`)}</div>
    </div>
    <h2>Requests per day, last 30 days</h2>
    <${DayChart} days=${requestsByDay.map((d) => d.day)} series=${[
      { label: 'requests', values: requestsByDay.map((d) => d.requests), color: '#2e5bff' },
      { label: 'failed', values: requestsByDay.map((d) => d.errors), color: '#f04438' },
    ]} />
    <div class="cards" style="margin-top:1rem">
      <div><h2>Largest by storage</h2>${ranking(byStorage, formatBytes)}</div>
      <div><h2>Most requests</h2>${ranking(byRequests, formatNumber)}</div>
    </div>
    <h2>Migrations</h2>
    ${behind.tenantCount === 0
      ? html`<p>Every live tenant is at the template head, v${fleet.latestTemplateVersion}.</p>`
      : html`<p><strong>${behind.tenantCount}</strong> live tenants are behind v${fleet.latestTemplateVersion} (run <code>npm run migrate</code>):
          ${behind.tenants.map((t) => html` <a href=${`#/tenant/${t.slug}`}>${t.slug}</a> (v${t.templateVersion})`)}${behind.tenantCount > behind.tenants.length ? ' …' : ''}</p>`}
    <p class="muted">Drift (a schema that differs from the template files) is checked per tenant, on its page.</p>
  </section>`;
}
