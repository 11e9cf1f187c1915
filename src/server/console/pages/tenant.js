import { html, useState } from '../vendor/preact.js';
import { downloadExport, formatBytes, formatNumber, graphql } from '../api.js';
import { ActionButton, DayChart, Failure, Outcome, useLoad } from '../widgets.js';

const TENANT = `query($slug: String!) {
  tenant(slug: $slug) {
    slug name status plan schemaName templateVersion createdAt deletedAt
    usage { storageBytes requestsToday requestsLast30Days errorsLast30Days lastActivityAt templateVersion latestTemplateVersion behind drift { file problem } tables { table rows bytes } }
  }
  requestsByDay(slug: $slug, days: 30) { day requests errors }
  plans { name maxStorageBytes }
}`;

/** One tenant: its usage and health, and every lifecycle action, each showing its result or its coded error. */
export function TenantPage({ slug, navigate }) {
  const [version, setVersion] = useState(0);
  const [outcome, setOutcome] = useState();
  const { data, error } = useLoad(() => graphql(TENANT, { slug }), [slug, version]);
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  if (!data.tenant) return html`<${Failure} error=${{ code: 'TENANT_NOT_FOUND', message: `no tenant "${slug}"` }} />`;
  const { tenant, requestsByDay, plans } = data;
  const { usage } = tenant;
  const limit = plans.find((p) => p.name === tenant.plan)?.maxStorageBytes ?? null;
  // After an action the page shows the tenant as it now is; a rename moves to the new slug.
  const done = (message, next = tenant.slug) => {
    if (next !== tenant.slug) navigate(`#/tenant/${next}`);
    else setVersion(version + 1);
    return message;
  };
  return html`<section>
    <h1>${tenant.name} <span class="muted">${tenant.slug}</span></h1>
    <div class="cards">
      <div class="card"><div class="muted">status</div><div class=${`big status-${tenant.status.toLowerCase()}`} data-test="tenant-status">${tenant.status.toLowerCase()}</div></div>
      <div class="card"><div class="muted">plan</div><div class="big" data-test="tenant-plan">${tenant.plan}</div></div>
      <div class="card"><div class="muted">template version</div><div class="big">v${usage.templateVersion}</div>
        <div class="muted">${usage.behind ? `behind v${usage.latestTemplateVersion}: npm run migrate` : 'at the head'}; drift: ${usage.drift.length === 0 ? 'none' : usage.drift.map((d) => `${d.file}: ${d.problem}`).join('; ')}</div></div>
      <div class="card"><div class="muted">storage</div><div class="big">${formatBytes(usage.storageBytes)}</div>
        <div class="muted">of ${formatBytes(limit)}</div>${limit !== null && html`<div class="bar"><div style=${`width:${Math.min(100, (100 * usage.storageBytes) / limit)}%`}></div></div>`}</div>
    </div>
    <h2>Requests per day, last 30 days</h2>
    <p class="muted">${formatNumber(usage.requestsLast30Days)} requests, ${formatNumber(usage.errorsLast30Days)} failed; last activity ${usage.lastActivityAt ?? 'never'}</p>
    <${DayChart} days=${requestsByDay.map((d) => d.day)} series=${[
      { label: 'requests', values: requestsByDay.map((d) => d.requests), color: '#2e5bff' },
      { label: 'failed', values: requestsByDay.map((d) => d.errors), color: '#f04438' },
    ]} />
    <h2>Tables</h2>
    <table><thead><tr><th>table</th><th class="num">rows</th><th class="num">size</th></tr></thead>
      <tbody>${usage.tables.map((t) => html`<tr><td>${t.table}</td><td class="num">${formatNumber(t.rows)}</td><td class="num">${formatBytes(t.bytes)}</td></tr>`)}</tbody></table>
    <h2>Actions</h2>
    <${Actions} tenant=${tenant} plans=${plans} done=${done} navigate=${navigate} onResult=${setOutcome} />
    <${Outcome} outcome=${outcome} />
  </section>`;
}

const mutate = (field, args, variables) => graphql(`mutation(${args}) { ${field} }`, variables);

function Actions({ tenant, plans, done, navigate, onResult }) {
  const [plan, setPlan] = useState(tenant.plan);
  const [newSlug, setNewSlug] = useState('');
  const [cloneAs, setCloneAs] = useState('');
  const [confirm, setConfirm] = useState('');
  const slug = tenant.slug;
  const lifecycle = (field, label) => async () => {
    const result = await mutate(`${field}(slug: $slug) { status }`, '$slug: String!', { slug });
    return done(`${label}: ${slug} is ${result[field].status.toLowerCase()}`);
  };
  return html`<div class="actions">
      ${tenant.status === 'ACTIVE' && html`<${ActionButton} label="Suspend" run=${lifecycle('suspendTenant', 'suspended')} onResult=${onResult} />`}
      ${tenant.status === 'SUSPENDED' && html`<${ActionButton} label="Resume" run=${lifecycle('resumeTenant', 'resumed')} onResult=${onResult} />`}
      ${tenant.status !== 'DELETED' && html`<${ActionButton} label="Delete" danger run=${lifecycle('deleteTenant', 'deleted (restorable)')} onResult=${onResult} />`}
      ${tenant.status === 'DELETED' && html`<${ActionButton} label="Restore" run=${lifecycle('restoreTenant', 'restored')} onResult=${onResult} />`}
      <${ActionButton} label="Rotate signing key" run=${async () => (await mutate('rotateSigningKey(slug: $slug) { slug }', '$slug: String!', { slug }), done(`rotated the signing key of ${slug}: its access tokens stop working`))} onResult=${onResult} />
      <${ActionButton} label="Download export" run=${async () => `downloaded ${await downloadExport(slug)}`} onResult=${onResult} />
    </div>
    <div class="actions" style="margin-top:0.5rem">
      <select aria-label="Plan" value=${plan} onChange=${(e) => setPlan(e.target.value)}>${plans.map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select>
      <${ActionButton} label="Change plan" disabled=${plan === tenant.plan} run=${async () => {
        const result = await mutate('changePlan(slug: $slug, plan: $plan) { plan }', '$slug: String!, $plan: String!', { slug, plan });
        return done(`${slug} is on plan ${result.changePlan.plan}`);
      }} onResult=${onResult} />
      <input aria-label="Rename to" placeholder="new slug" value=${newSlug} onInput=${(e) => setNewSlug(e.target.value)} />
      <${ActionButton} label="Rename" disabled=${newSlug === ''} run=${async () => {
        const result = await mutate('renameTenant(slug: $slug, newSlug: $newSlug) { slug }', '$slug: String!, $newSlug: String!', { slug, newSlug });
        return done(`renamed ${slug} to ${result.renameTenant.slug}`, result.renameTenant.slug);
      }} onResult=${onResult} />
      <input aria-label="Clone as" placeholder="clone as (slug)" value=${cloneAs} onInput=${(e) => setCloneAs(e.target.value)} />
      <${ActionButton} label="Clone" disabled=${cloneAs === ''} run=${async () => {
        const result = await mutate('cloneTenant(slug: $slug, as: $as) { tenant { slug } durationMs }', '$slug: String!, $as: String!', { slug, as: cloneAs });
        return html`cloned to <a href=${`#/tenant/${result.cloneTenant.tenant.slug}`}>${result.cloneTenant.tenant.slug}</a> in ${Math.round(result.cloneTenant.durationMs)} ms`;
      }} onResult=${onResult} />
    </div>
    <div class="actions" style="margin-top:0.5rem">
      <input aria-label="Type the slug to purge" placeholder=${`type ${slug} to purge`} value=${confirm} onInput=${(e) => setConfirm(e.target.value)} />
      <${ActionButton} label="Purge" danger disabled=${confirm !== slug} run=${async () => {
        await mutate('purgeTenant(slug: $slug, confirmSlug: $confirm) { slug }', '$slug: String!, $confirm: String!', { slug, confirm });
        // Nothing is left to show here.
        setTimeout(() => navigate('#/tenants'), 1500);
        return `purged ${slug}: its schema, role and data are gone`;
      }} onResult=${onResult} />
    </div>`;
}
