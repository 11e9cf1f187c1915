import { ConfigError, loadConfig, type Config } from '../config.js';
import { reportUsageMistake } from './args.js';
import { openDatabase, type Database } from '../db/database.js';
import { isSchemataError } from '../errors.js';
import { migrateControlPlane } from '../migrations/migrate-control.js';
import { loadTemplates, type Templates } from '../migrations/template.js';

export interface ScriptContext {
  readonly config: Config;
  readonly database: Database;
  readonly templates: Templates;
  /** For long-running commands: resolves on SIGINT or SIGTERM, after which `main` returns and cleanup runs. */
  untilSignal(): Promise<void>;
}

export interface RunScriptOptions {
  /** Apply pending control-plane migrations first, so a fresh database just works. */
  readonly ensureControlPlane?: boolean;
  /** Argument checks that must fail before the database is touched. */
  readonly precheck?: () => void;
  /**
   * The servers serve requests through DATABASE_URL (which may be a pooler);
   * every other command works through DATABASE_DIRECT_URL when it is set.
   * @default 'direct'
   */
  readonly connection?: 'pooled' | 'direct';
}

/** A usage mistake: its message names the problem in one line; exit code 2. */
export class UsageError extends Error {}

/**
 * The shell around every CLI: config, templates, database (with the one line
 * saying which), a clean close (stopping the embedded server if this process
 * started it) and the exit code. Errors print as `error [CODE]: message`,
 * never as a stack trace; `main` returns the exit code.
 */
export async function runScript(main: (context: ScriptContext) => Promise<number | void>, options: RunScriptOptions = {}): Promise<void> {
  let database: Database | undefined;
  let holding: (() => void) | undefined;
  const interrupted = async () => {
    if (holding) return holding();
    await database?.close().catch(() => undefined);
    process.exit(130);
  };
  const untilSignal = () => new Promise<void>((resolve) => (holding = resolve));
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  try {
    options.precheck?.();
    const config = loadConfig();
    const templates = await loadTemplates(config.templatesDir);
    database = await openDatabase(config, { connection: options.connection ?? 'direct' });
    console.error(database.description);
    if (options.ensureControlPlane) {
      const outcome = await migrateControlPlane(database, templates.control);
      if (outcome.names.length > 0) console.error(`control plane: applied ${outcome.names.join(', ')}`);
    }
    process.exitCode = (await main({ config, database, templates, untilSignal })) ?? 0;
  } catch (error) {
    process.exitCode = reportError(error);
  } finally {
    await database?.close().catch((error: unknown) => console.error(`warning: closing the database failed: ${String(error)}`));
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    reportUsageMistake(error.message);
    return 2;
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    return 2;
  }
  if (isSchemataError(error)) {
    console.error(`error [${error.code}]: ${error.message}`);
    return 1;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}
