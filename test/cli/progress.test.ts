import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.js';

/** A pipe, as CI or `| tee` gives a script: not a terminal. */
function pipe() {
  const written: string[] = [];
  const stream = { isTTY: false, write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('progress without a terminal', () => {
  it('prints plain lines, the final state once, and no bar characters', () => {
    const { stream, written } = pipe();
    const progress = createProgress('migrate', stream);
    progress.update(0, 3, 0);
    progress.update(1, 3, 0); // within two seconds of the last line: not printed
    progress.log('[2/3 beta] failed: boom');
    progress.update(3, 3, 1);
    progress.stop();
    expect(written.map((line) => line.replace(/[\d.]+ s\n$/, 'T s\n'))).toEqual([
      'migrate: 0/3 (0%), failed 0, T s\n',
      '[2/3 beta] failed: boom\n',
      'migrate: 3/3 (100%), failed 1, T s\n',
    ]);
  });
});
