import { UsageError } from './run-script.js';

/**
 * A `--name N` option as a whole number within bounds; undefined when absent.
 * Anything else is a UsageError that quotes the value and the usage text.
 */
export function wholeNumberArg(name: string, raw: string | undefined, usage: string, bounds: { min: number; max?: number }): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const { min, max = Number.MAX_SAFE_INTEGER } = bounds;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got "${raw}"\n${usage}`);
  }
  return value;
}

/** For scripts outside runScript: a usage mistake prints like runScript's and exits 2, without a stack trace. */
export function parseArgsOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`usage error: ${error.message}`);
    process.exit(2);
  }
}
