import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';

const require = createRequire(import.meta.url);
const CONSOLE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../console');

const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * Every file the page may load, by the path it asks for: the console's own
 * files as they lie in src/server/console (listed at start, each read on its
 * first request and kept), and Preact
 * with hooks and htm in one ES module and Chart.js from the packages npm
 * installed, so the page works offline. Nothing else on disk is reachable.
 */
function consoleFiles(): Map<string, { readonly file: string; readonly type: string }> {
  const files = new Map<string, { file: string; type: string }>();
  for (const relative of readdirSync(CONSOLE_DIR, { recursive: true }) as string[]) {
    const type = TYPES[path.extname(relative)];
    if (type && relative !== 'console.html') files.set(`/admin/console/${relative.split(path.sep).join('/')}`, { file: path.join(CONSOLE_DIR, relative), type });
  }
  const page = { file: path.join(CONSOLE_DIR, 'console.html'), type: TYPES['.html']! };
  files.set('/admin', page).set('/admin/', page);
  // Neither package exports these files by name: found beside the entry points that they do export.
  files.set('/admin/console/vendor/preact.js', { file: path.resolve(path.dirname(require.resolve('htm')), '../preact/standalone.module.js'), type: TYPES['.js']! });
  files.set('/admin/console/vendor/chart.js', { file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), type: TYPES['.js']! });
  return files;
}

/**
 * The operators' console at /admin: static files only. Everything it shows
 * or does goes through /admin/graphql (and the export download) with the
 * platform-admin token the operator signed in with, so the page itself needs
 * no authentication and holds no data.
 */
export function useAdminConsole(): Plugin {
  const files = consoleFiles();
  const cache = new Map<string, Promise<Buffer>>();
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      const entry = files.get(url.pathname);
      if (!entry || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      let body = cache.get(entry.file);
      if (!body) {
        cache.set(entry.file, (body = fs.readFile(entry.file)));
        body.catch(() => cache.delete(entry.file)); // a failed read is tried again next time
      }
      return body.then((bytes) =>
        endResponse(
          new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(bytes), {
            headers: {
              'content-type': entry.type,
              // The page runs only its own files and talks only to its own origin.
              'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
              'x-content-type-options': 'nosniff',
              'cache-control': 'no-cache',
            },
          }),
        ),
      );
    },
  };
}
