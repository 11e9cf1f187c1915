import { html } from '../vendor/preact.js';
import { graphql } from '../api.js';
import { Failure, useLoad } from '../widgets.js';

/** Who did what: this server's latest admin operations, from the same records as the JSON log. */
export function OperationsPage() {
  const { data, error } = useLoad(() => graphql('{ adminOperations(first: 100) { at admin operation fields arguments errorCodes } }'), []);
  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  return html`<section>
    <h1>Admin operations</h1>
    <p class="muted">This server's latest operations since it started, newest first; every server's full history is in its JSON log (<code>"msg":"admin operation"</code>).</p>
    <table>
      <thead><tr><th>when</th><th>operator</th><th>operation</th><th>fields</th><th>arguments</th><th>outcome</th></tr></thead>
      <tbody>
        ${data.adminOperations.map(
          (op) => html`<tr>
            <td>${op.at.replace('T', ' ').slice(0, 19)}</td><td>${op.admin ?? '—'}</td><td>${op.operation}</td><td>${op.fields.join(', ')}</td>
            <td><code>${op.arguments}</code></td>
            <td class=${op.errorCodes.length ? 'status-deleted' : 'status-active'}>${op.errorCodes.length ? op.errorCodes.join(', ') : 'ok'}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
