import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number, failed: number): void;
  /** Prints a line above the bar (or in the log when not a terminal). */
  log(line: string): void;
  stop(): void;
}

/**
 * A bar on a terminal; on a pipe or in CI, plain lines: one every two seconds
 * at most and one at the end, each printed once (cli-progress' own fallback
 * printed the last state twice, bar characters and all), so a 10,000-tenant
 * run shows progress without 10,000 log lines.
 */
export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? terminalBar(label, stream) : plainLines(label, stream);
}

function terminalBar(label: string, stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} | {percentage}% | {duration_formatted} | failed {failed}`, stream, hideCursor: true },
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
      // Clear the bar's line first; the next update redraws it.
      stream.write(`${started ? '\r\x1b[K' : ''}${line}\n`);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function plainLines(label: string, stream: NodeJS.WriteStream, everyMs = 2_000): ProgressReporter {
  const started = performance.now();
  let last: { done: number; total: number; failed: number } | undefined;
  let printed: typeof last;
  let printedAt = -Infinity;
  const print = () => {
    if (!last || last === printed) return;
    const { done, total, failed } = last;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    stream.write(`${label}: ${done}/${total} (${percent}%), failed ${failed}, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    printed = last;
    printedAt = performance.now();
  };
  return {
    update(done, total, failed) {
      last = { done, total, failed };
      if (done === total || performance.now() - printedAt >= everyMs) print();
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop: print,
  };
}
