import type { INestApplicationContext } from '@nestjs/common';
import { errorSummary } from '@tidings/core';
import { Command } from 'commander';
import { EXIT, projectionCommand } from './commands/projection.command.js';

/** Options of {@link createTidingsCli}. */
export interface TidingsCliOptions {
  /**
   * Creates the application's context for one command, e.g.
   * `() => NestFactory.createApplicationContext(AppModule.forRoot({ consume: false }))`. Pass `consume: false` to the
   * EventBusModule: the CLI must not consume, follow the log or relay beside the running application.
   */
  readonly bootstrap: () => Promise<INestApplicationContext>;
  /** @default process.stdout */
  readonly stdout?: NodeJS.WritableStream;
  /** Progress and errors. @default process.stderr */
  readonly stderr?: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/**
 * The `tidings` command line of an application: it needs the application's module to find its projections, so each
 * application makes its own two-line bin (see docs/projections.md):
 *
 * @example
 * ```ts
 * // src/tidings.ts
 * await runTidingsCli({ bootstrap: () => NestFactory.createApplicationContext(AppModule.forCli()) }, process.argv);
 * ```
 */
export function createTidingsCli(options: TidingsCliOptions): Command {
  const io = { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr };
  return new Command('tidings')
    .description('Operate a Tidings application: rebuild and inspect its projections')
    .showHelpAfterError()
    .addCommand(projectionCommand(options, io));
}

/** Parses `argv` (as `process.argv`) and runs the command; failures set `process.exitCode` with the error printed. */
export async function runTidingsCli(options: TidingsCliOptions, argv: readonly string[]): Promise<void> {
  try {
    await createTidingsCli(options).parseAsync([...argv]);
  } catch (error) {
    (options.stderr ?? process.stderr).write(`${errorSummary(error)}\n`);
    process.exitCode = EXIT.failed;
  }
}
