// The console's only channel: /admin/graphql (and the export download) with the operator's platform-admin token.

const TOKEN_KEY = 'schemata-admin-token';

/** Kept for this browser tab only (sessionStorage): closing the tab signs out; never in localStorage. */
export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An answer of the API that carries a code: shown to the operator as `CODE: message`. */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const listeners = new Set();
/** Called when the API refuses the token (expired, rotated): the console goes back to sign-in. */
export function onSignedOut(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function refused(error) {
  if (error.status === 401) {
    session.signOut();
    for (const listener of listeners) listener(error);
  }
  return error;
}

export async function graphql(query, variables = {}) {
  const response = await fetch('/admin/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}`, 'x-graphql-yoga-csrf': 'console' },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw refused(new ApiError('HTTP_' + response.status, `the server answered ${response.status}`, response.status));
  }
  const first = body.errors?.[0];
  if (first) throw refused(new ApiError(first.extensions?.code ?? 'ERROR', first.message, response.status));
  return body.data;
}

/** The tenant's NDJSON export, saved by the browser as a download. */
export async function downloadExport(slug) {
  const response = await fetch(`/admin/tenants/${encodeURIComponent(slug)}/export`, { headers: { authorization: `Bearer ${session.token}` } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const first = body.errors?.[0];
    throw refused(new ApiError(first?.extensions?.code ?? 'HTTP_' + response.status, first?.message ?? `the server answered ${response.status}`, response.status));
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `${slug}.ndjson`;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

export const formatBytes = (bytes) => {
  if (bytes == null) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), (unit += 1);
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
};

export const formatNumber = (n) => (n == null ? 'unlimited' : Number(n).toLocaleString('en-US'));
