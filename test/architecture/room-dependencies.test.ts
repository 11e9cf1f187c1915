import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';

/**
 * The rooms of src/, lowest first, read from ARCHITECTURE.md's table: a file
 * may import from its own room and from rooms listed before it, never after.
 */
function roomsOfArchitectureMd(): string[][] {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'ARCHITECTURE.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## The rooms'), doc.indexOf('## A request'));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/^src\//, '').replace(/(<domain>)?\/$/, '').replace(/\/$/, '')));
}

const ROOMS = roomsOfArchitectureMd();

const SRC = path.join(PROJECT_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The index in ROOMS of the room holding `file` (a path below src/). */
function layerOf(file: string, rooms: string[][] = ROOMS): number {
  const relative = path.relative(SRC, file).split(path.sep).join('/');
  const layer = rooms.findIndex((room) => room.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`)));
  if (layer < 0) throw new Error(`src/${relative} is in no room of ARCHITECTURE.md`);
  return layer;
}

/** Every relative module a source imports: `from '…'`, a bare `import '…'`, and `import('…')`. */
function relativeImports(file: string, source = readFileSync(file, 'utf8')): string[] {
  return [...source.matchAll(/(?:\bfrom|\bimport\(?)\s*'(\.{1,2}\/[^']+)'/g)].map((match) => path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts')));
}

/** `file imports target` for each import of `source` (as if written in `file`) that points to a room listed after its own. */
function upwardImports(file: string, source?: string, rooms = ROOMS): string[] {
  return relativeImports(file, source)
    .filter((target) => layerOf(target, rooms) > layerOf(file, rooms))
    .map((target) => `${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
}

describe('the rooms of src/', () => {
  it('are the ones ARCHITECTURE.md lists, and every file is in one', () => {
    expect(ROOMS.length).toBeGreaterThan(10);
    expect(ROOMS[1]).toEqual(['db']);
    for (const file of sourceFiles(SRC)) expect(() => layerOf(file)).not.toThrow();
  });

  it('depend one way: no file imports from a room listed after its own', () => {
    expect(sourceFiles(SRC).flatMap((file) => upwardImports(file))).toEqual([]);
  });

  it('the check sees each kind of import pointing to a later room (negative control)', () => {
    const db = path.join(SRC, 'db/database.ts');
    expect(upwardImports(db, "import { startServer } from '../server/main.js';")).toEqual(['db/database.ts imports server/main.ts']);
    expect(upwardImports(db, "import '../graphql/schema/index.js';")).toEqual(['db/database.ts imports graphql/schema/index.ts']);
    expect(upwardImports(db, "const m = await import('../cli/run-script.js');")).toEqual(['db/database.ts imports cli/run-script.ts']);
    expect(upwardImports(path.join(SRC, 'server/main.ts'), "import { openDatabase } from '../db/database.js';")).toEqual([]);
    expect(() => layerOf(path.join(SRC, 'nowhere/file.ts'))).toThrow(/in no room/);
  });
});
