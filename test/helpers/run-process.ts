import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config.js';

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command (from the project root unless `cwd` says otherwise) and collects its output; never rejects on a non-zero exit. */
export function runProcess(command: string, args: readonly string[], env: Record<string, string | undefined> = {}, cwd = PROJECT_ROOT): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `tsx` from this project's node_modules, so tests do not depend on a global install. */
export const TSX = `${PROJECT_ROOT}/node_modules/.bin/tsx`;
export const VITEST = `${PROJECT_ROOT}/node_modules/.bin/vitest`;
