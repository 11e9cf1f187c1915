import { html, useState } from '../vendor/preact.js';
import { graphql, session } from '../api.js';

/** Paste a platform-admin token (npm run -s token -- --platform-admin); it is checked before the console opens. */
export function SignIn({ onSignedIn, reason }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    session.signIn(token);
    try {
      await graphql('{ fleet { total } }');
      onSignedIn();
    } catch (failure) {
      session.signOut();
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="signin card" onSubmit=${submit}>
    <h1>schemata console</h1>
    <p>Sign in with a platform-admin token: <code>npm run -s token -- --platform-admin</code>. It stays in this tab only.</p>
    <label for="token">Platform-admin token</label>
    <textarea id="token" name="token" value=${token} onInput=${(e) => setToken(e.target.value)} placeholder="eyJ…" required></textarea>
    <p><button type="submit" disabled=${busy || token.trim() === ''}>Sign in</button></p>
    ${error && html`<p class="result error" role="alert"><strong>${error.code ?? 'ERROR'}</strong>: ${error.message}</p>`}
  </form>`;
}
