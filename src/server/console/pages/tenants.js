import { html, useEffect, useState } from '../vendor/preact.js';
import { formatNumber, graphql } from '../api.js';
import { ActionButton, Failure, Outcome, useLoad } from '../widgets.js';

const PAGE = 25;
const LIST = `query($search: String, $status: [TenantStatus!], $plan: [String!], $version: [Int!], $descending: Boolean, $afterSlug: String) {
  tenants(search: $search, status: $status, plan: $plan, version: $version, descending: $descending, afterSlug: $afterSlug, first: ${PAGE}) { slug name status plan templateVersion createdAt }
  tenantCount(search: $search, status: $status, plan: $plan, version: $version)
}`;

/** Search, filter, sort and page through the tenants, a page at a time (the API's keyset pages, never the whole fleet). */
export function TenantsPage() {
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const [status, setStatus] = useState('');
  const [plan, setPlan] = useState('');
  const [version, setVersion] = useState('');
  const [descending, setDescending] = useState(false);
  // The slug each page starts after, per filter: the last entry is the current page's; another filter starts at its first page.
  const filterKey = JSON.stringify([search, status, plan, version, descending]);
  const [paging, setPaging] = useState({ filterKey, cursors: [undefined] });
  const cursors = paging.filterKey === filterKey ? paging.cursors : [undefined];
  const setCursors = (next) => setPaging({ filterKey, cursors: next });
  const [created, setCreated] = useState(0);
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const options = useLoad(() => graphql('{ plans { name } fleet { byTemplateVersion { value } } }'), []);
  const { data, error, loading } = useLoad(
    () =>
      graphql(LIST, {
        search: search || null,
        status: status ? [status] : null,
        plan: plan ? [plan] : null,
        version: version ? [Number(version)] : null,
        descending,
        afterSlug: cursors.at(-1) ?? null,
      }),
    [filterKey, cursors.at(-1), created],
  );
  const pageNumber = cursors.length;
  return html`<section>
    <h1>Tenants</h1>
    <div class="toolbar">
      <input type="search" placeholder="Search slug or name" aria-label="Search" value=${typed} onInput=${(e) => setTyped(e.target.value)} />
      <select aria-label="Status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">any status</option><option value="ACTIVE">active</option><option value="SUSPENDED">suspended</option><option value="DELETED">deleted</option>
      </select>
      <select aria-label="Plan" value=${plan} onChange=${(e) => setPlan(e.target.value)}>
        <option value="">any plan</option>${options.data?.plans.map((p) => html`<option value=${p.name}>${p.name}</option>`)}
      </select>
      <select aria-label="Version" value=${version} onChange=${(e) => setVersion(e.target.value)}>
        <option value="">any version</option>${options.data?.fleet.byTemplateVersion.map((v) => html`<option value=${v.value}>v${v.value}</option>`)}
      </select>
      <button onClick=${() => setDescending(!descending)} aria-label="Sort">slug ${descending ? 'Z→A' : 'A→Z'}</button>
      <span class="muted" data-test="tenant-count">${data ? `${formatNumber(data.tenantCount)} ${data.tenantCount === 1 ? 'tenant' : 'tenants'}` : ''}</span>
    </div>
    ${error && html`<${Failure} error=${error} />`}
    <table>
      <thead><tr><th>slug</th><th>name</th><th>status</th><th>plan</th><th class="num">version</th><th>created</th></tr></thead>
      <tbody>
        ${data?.tenants.map(
          (t) => html`<tr>
            <td><a href=${`#/tenant/${t.slug}`}>${t.slug}</a></td><td>${t.name}</td>
            <td class=${`status-${t.status.toLowerCase()}`}>${t.status.toLowerCase()}</td><td>${t.plan}</td>
            <td class="num">v${t.templateVersion}</td><td>${t.createdAt.slice(0, 10)}</td>
          </tr>`,
        )}
        ${data && data.tenants.length === 0 && html`<tr><td colspan="6" class="muted">no tenant matches</td></tr>`}
      </tbody>
    </table>
    <div class="toolbar" style="margin-top:0.75rem">
      <button disabled=${pageNumber === 1 || loading} onClick=${() => setCursors(cursors.slice(0, -1))}>← previous</button>
      <span class="muted">page ${pageNumber}</span>
      <button disabled=${loading || !data || pageNumber * PAGE >= data.tenantCount} onClick=${() => setCursors([...cursors, data.tenants.at(-1).slug])}>next →</button>
    </div>
    <${CreateTenant} plans=${options.data?.plans ?? []} onCreated=${() => setCreated(created + 1)} />
  </section>`;
}

function CreateTenant({ plans, onCreated }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [plan, setPlan] = useState('');
  const [outcome, setOutcome] = useState();
  const create = async () => {
    const { createTenant } = await graphql('mutation($slug: String!, $name: String, $plan: String) { createTenant(slug: $slug, name: $name, plan: $plan) { tenant { slug plan } durationMs } }', {
      slug,
      name: name || null,
      plan: plan || null,
    });
    onCreated();
    return html`created <a href=${`#/tenant/${createTenant.tenant.slug}`}>${createTenant.tenant.slug}</a> on ${createTenant.tenant.plan} in ${Math.round(createTenant.durationMs)} ms`;
  };
  return html`<h2>Create a tenant</h2>
    <div class="actions">
      <input aria-label="New slug" placeholder="slug" value=${slug} onInput=${(e) => setSlug(e.target.value)} />
      <input aria-label="New name" placeholder="name (optional)" value=${name} onInput=${(e) => setName(e.target.value)} />
      <select aria-label="New plan" value=${plan} onChange=${(e) => setPlan(e.target.value)}><option value="">default plan</option>${plans.map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select>
      <${ActionButton} label="Create" run=${create} onResult=${setOutcome} disabled=${slug === ''} />
    </div>
    <${Outcome} outcome=${outcome} />`;
}
