import { inject } from 'vitest';
import { runProcess, TSX, type ProcessResult } from './run-process.js';

/** Runs `scripts/<script>.ts` as an operator would, against this run's test database. */
export function runCli(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runProcess(TSX, [`scripts/${script}.ts`, ...args], { DATABASE_URL: inject('databaseUrl'), ...env });
}
