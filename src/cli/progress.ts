import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number, failed: number): void;
  /** Prints a line above the bar (or in the log when not a terminal). */
  log(line: string): void;
  stop(): void;
}

/**
 * A bar on a terminal; on a pipe or in CI, the same line every two seconds,
 * so a 10,000-tenant run shows progress without 10,000 log lines.
 */
export function createProgress(label: string): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | {percentage}% | {duration_formatted} | failed {failed}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, failed) {
      if (!started) {
        bar.start(total, done, { failed });
        started = true;
      } else {
        bar.update(done, { failed });
      }
    },
    log(line) {
      // On a terminal, clear the bar's line first; the next update redraws it.
      process.stderr.write(`${started && process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
