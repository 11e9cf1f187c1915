import { html, render, useEffect, useState } from './vendor/preact.js';
import { onSignedOut, session } from './api.js';
import { FleetPage } from './pages/fleet.js';
import { OperationsPage } from './pages/operations.js';
import { SignIn } from './pages/sign-in.js';
import { TenantPage } from './pages/tenant.js';
import { TenantsPage } from './pages/tenants.js';

// A sign-in link (npm run -s token -- --platform-admin --link) carries the token in the fragment, which no server sees: take it, then drop it from the address bar.
const linked = /^#token=([\w.-]+)$/.exec(location.hash);
if (linked) {
  session.signIn(linked[1]);
  history.replaceState(null, '', '#/fleet');
}

const route = () => {
  const [, page = 'fleet', arg] = /^#\/([\w-]+)(?:\/([^/]+))?/.exec(location.hash) ?? [];
  try {
    return { page, arg: arg && decodeURIComponent(arg) };
  } catch {
    return { page: 'fleet' }; // a mangled address (#/tenant/%E0) shows the fleet rather than nothing
  }
};

function Console() {
  const [signedIn, setSignedIn] = useState(Boolean(session.token));
  const [reason, setReason] = useState();
  const [where, setWhere] = useState(route());
  useEffect(() => {
    const moved = () => setWhere(route());
    addEventListener('hashchange', moved);
    const off = onSignedOut((error) => {
      setReason(error);
      setSignedIn(false);
    });
    return () => (removeEventListener('hashchange', moved), off());
  }, []);
  if (!signedIn) return html`<${SignIn} reason=${reason} onSignedIn=${() => (setReason(undefined), setSignedIn(true))} />`;
  const navigate = (hash) => (location.hash = hash);
  const link = (page, label) => html`<a href=${`#/${page}`} class=${where.page === page || (page === 'tenants' && where.page === 'tenant') ? 'active' : ''}>${label}</a>`;
  const signOut = () => {
    session.signOut();
    setSignedIn(false);
  };
  return html`<header>
      <strong>schemata</strong>${link('fleet', 'Fleet')}${link('tenants', 'Tenants')}${link('operations', 'Operations log')}
      <span class="spacer"></span><button onClick=${signOut}>Sign out</button>
    </header>
    <main>
      ${where.page === 'tenants' && html`<${TenantsPage} />`}
      ${where.page === 'tenant' && html`<${TenantPage} key=${where.arg} slug=${where.arg} navigate=${navigate} />`}
      ${where.page === 'operations' && html`<${OperationsPage} />`}
      ${!['tenants', 'tenant', 'operations'].includes(where.page) && html`<${FleetPage} />`}
    </main>`;
}

const app = document.getElementById('app');
app.textContent = ''; // the no-script placeholder
render(html`<${Console} />`, app);
