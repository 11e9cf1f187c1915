import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './run-script.js';

/** How a usage mistake ends: the problem on one line, then where the usage is, exit code 2. */
export function reportUsageMistake(problem: string): void {
  // The npm script's name, when npm ran this file (not when the variable was inherited from an outer npm run).
  const file = path.basename(process.argv[1] ?? '');
  const script = file && process.env.npm_lifecycle_script?.includes(file) ? process.env.npm_lifecycle_event : undefined;
  console.error(`usage error: ${problem}`);
  console.error(script ? `  npm run ${script} -- --help shows the usage` : '  --help shows the usage');
}

/**
 * node:util's parseArgs for a CLI, with `--help`/`-h`: help prints `usage`
 * and exits 0; an unknown option or a missing value is a usage mistake
 * (one line, exit 2) instead of parseArgs' TypeError and its stack.
 */
export function parseCliArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  // Asking for help wins over whatever else is on the line, mistakes included.
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    // parseArgs adds advice about positionals that start with '-', which none of ours do.
    reportUsageMistake((error as Error).message.split('. To specify a positional')[0]!);
    process.exit(2);
  }
  return parsed;
}

/**
 * A `--name N` option as a whole number within bounds; undefined when absent.
 * Anything else is a UsageError that quotes the value.
 */
export function wholeNumberArg(name: string, raw: string | undefined, bounds: { min: number; max?: number }): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const { min, max = Number.MAX_SAFE_INTEGER } = bounds;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, got "${raw}"`);
  }
  return value;
}

/** For scripts outside runScript: a usage mistake prints like runScript's and exits 2, without a stack trace. */
export function parseArgsOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    reportUsageMistake(error.message);
    process.exit(2);
  }
}
