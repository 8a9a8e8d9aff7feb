import type { RebuildProgress } from '@tidings/core';
import { formatDuration, formatRebuildProgress } from './rebuild-progress.format.js';
import { ProgressOutput } from './progress-output.js';

const progress = (overrides: Partial<RebuildProgress> = {}): RebuildProgress => ({
  projection: 'feed',
  phase: 'replaying',
  resumedFrom: 0,
  position: 4213,
  head: 10_002,
  eventsPerSecond: 21_450.4,
  etaSeconds: 0.27,
  ...overrides,
});

describe('formatDuration', () => {
  it('reads like a clock', () => {
    expect([0, 5, 65, 600, 3723].map(formatDuration)).toEqual(['0:00', '0:05', '1:05', '10:00', '1:02:03']);
  });
});

describe('formatRebuildProgress', () => {
  it('shows a bar, the percentage, the position against the head, the rate and the ETA', () => {
    expect(formatRebuildProgress(progress())).toBe(
      'feed  [##########..............]  42%  position 4,213 / 10,002  21,450 events/s  ETA 0:00  replaying',
    );
  });

  it('has no ETA before there is a rate, says done at the end, and never passes 100 %', () => {
    expect(formatRebuildProgress(progress({ eventsPerSecond: 0, etaSeconds: undefined }))).toContain('0 events/s  ETA --:--');
    expect(formatRebuildProgress(progress({ phase: 'done', position: 10_002 }))).toMatch(/\[#{24}\] 100%.*done {2}done$/);
    expect(formatRebuildProgress(progress({ position: 20_000 }))).toContain('100%');
    expect(formatRebuildProgress(progress({ position: 0, head: 0 }))).toContain('100%');
  });
});

describe('ProgressOutput', () => {
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    return {
      written,
      stream: Object.assign({ write: (chunk: string) => written.push(chunk) > 0 }, { isTTY }) as unknown as NodeJS.WritableStream & {
        isTTY: boolean;
      },
    };
  };

  it('redraws one line in place on a terminal and ends it once', () => {
    const { written, stream } = sink(true);
    const output = new ProgressOutput(stream);
    output.update('a');
    output.update('b');
    output.done();
    output.done();
    expect(written).toEqual(['\r\u001b[2Ka', '\r\u001b[2Kb', '\n']);
  });

  it('writes a plain line per update elsewhere (logs, CI)', () => {
    const { written, stream } = sink(false);
    const output = new ProgressOutput(stream);
    output.update('a');
    output.update('b');
    output.done();
    expect(written).toEqual(['a\n', 'b\n']);
  });
});
