import type { INestApplicationContext } from '@nestjs/common';
import { errorSummary, ProjectionRebuildAbortedError, ProjectionRebuildRunningError } from '@tidings/core';
import { Projections } from '@tidings/nestjs';
import { Command } from 'commander';
import { formatDuration, formatRebuildProgress } from '../progress/rebuild-progress.format.js';
import { ProgressOutput } from '../progress/progress-output.js';
import type { TidingsCliOptions } from '../tidings.cli.js';

/** Exit codes of `tidings projection ...`. */
export const EXIT = { ok: 0, failed: 1, busy: 75, interrupted: 130 } as const;

type Io = Required<Pick<TidingsCliOptions, 'stdout' | 'stderr'>>;

async function withProjections<T>(options: TidingsCliOptions, work: (projections: Projections) => Promise<T>): Promise<T> {
  const app: INestApplicationContext = await options.bootstrap();
  try {
    return await work(app.get(Projections));
  } finally {
    await app.close();
  }
}

/** `tidings projection list|status|rebuild|skipped`. Sets `process.exitCode` rather than exiting, so the app closes cleanly. */
export function projectionCommand(options: TidingsCliOptions, io: Io): Command {
  const command = new Command('projection').description("operate the application's projections (read models built from the event log)");

  command
    .command('list')
    .description('name every projection of the application')
    .action(() =>
      withProjections(options, async (projections) => {
        io.stdout.write(`${projections.names().join('\n')}\n`);
      }),
    );

  command
    .command('status <name>')
    .description('positions of the live copy and of a rebuild copy, and the head of the event log (JSON)')
    .action((name: string) =>
      withProjections(options, async (projections) => {
        io.stdout.write(`${JSON.stringify(await projections.status(name), null, 2)}\n`);
      }),
    );

  command
    .command('skipped <name>')
    .description('events the live copy passed over, newest first (JSON)')
    .option('-n, --limit <count>', 'how many', (value) => Number(value), 20)
    .action((name: string, flags: { limit: number }) =>
      withProjections(options, async (projections) => {
        io.stdout.write(`${JSON.stringify(await projections.skipped(name, 'live', flags.limit), null, 2)}\n`);
      }),
    );

  command
    .command('rebuild <name>')
    .description(
      'replay the whole event log into a new copy while the live one keeps serving, then swap it in; resumes an interrupted rebuild',
    )
    .option('--progress-ms <ms>', 'how often to redraw the progress line', (value) => Number(value), 250)
    .option('--batch-size <entries>', "log entries per transaction (default: the projection's)", (value) => Number(value))
    .action((name: string, flags: { progressMs: number; batchSize?: number }) =>
      withProjections(options, async (projections) => {
        const output = new ProgressOutput(io.stderr);
        const stop = new AbortController();
        // Ctrl-C stops at the next batch; the copy keeps its checkpoint, and the next rebuild resumes there.
        const interrupt = (): void => stop.abort();
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        try {
          const result = await projections.rebuild(name, {
            signal: stop.signal,
            progressEveryMs: flags.progressMs,
            ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
            onProgress: (progress) => output.update(formatRebuildProgress(progress)),
          });
          output.done();
          const resumed = result.resumedFrom > 0 ? ` (resumed at position ${result.resumedFrom})` : '';
          const rate = result.seconds > 0 ? Math.round(result.entries / result.seconds) : result.entries;
          io.stdout.write(
            `Rebuilt projection ${name}${resumed}: ${result.entries} log entries in ${formatDuration(result.seconds)} ` +
              `(${rate} events/s); the new copy is live at position ${result.position}\n`,
          );
        } catch (error) {
          output.done();
          io.stderr.write(`${errorSummary(error)}\n`);
          process.exitCode =
            error instanceof ProjectionRebuildAbortedError
              ? EXIT.interrupted
              : error instanceof ProjectionRebuildRunningError
                ? EXIT.busy
                : EXIT.failed;
        } finally {
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
      }),
    );
  return command;
}
