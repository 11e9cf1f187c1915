import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';

/**
 * The rooms of src/, lowest first, as ARCHITECTURE.md draws them: a file may
 * import from its own room and from rooms listed before it, never after.
 */
const ROOMS = [
  'config.ts errors.ts format-bytes.ts text-rule.ts',
  'db',
  'control/registry',
  'tenancy',
  'migrations',
  'auth',
  'control/plans',
  'control/tenants',
  'control/transfer',
  'control/fleet',
  'control/usage',
  'data',
  'graphql',
  'seed',
  'cli',
  'server',
].map((room) => room.split(' '));

const SRC = path.join(PROJECT_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The index in ROOMS of the room holding `file` (a path below src/). */
function layerOf(file: string): number {
  const relative = path.relative(SRC, file).split(path.sep).join('/');
  const layer = ROOMS.findIndex((room) => room.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`)));
  if (layer < 0) throw new Error(`src/${relative} is in no room of ARCHITECTURE.md`);
  return layer;
}

function relativeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/\bfrom '(\.{1,2}\/[^']+)'/g)].map((match) => path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')));
}

describe('the rooms of src/', () => {
  it('depend one way: no file imports from a room above its own', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      for (const target of relativeImports(file)) {
        if (layerOf(target) > layerOf(file)) upward.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the check sees an upward import (negative control)', () => {
    expect(layerOf(path.join(SRC, 'db/database.ts'))).toBeLessThan(layerOf(path.join(SRC, 'server/main.ts')));
    expect(() => layerOf(path.join(SRC, 'nowhere/file.ts'))).toThrow(/in no room/);
  });
});
