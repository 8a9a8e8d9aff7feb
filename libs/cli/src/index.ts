export * from './tidings.cli.js';
export { EXIT as TIDINGS_CLI_EXIT } from './commands/projection.command.js';
export { formatRebuildProgress, formatDuration } from './progress/rebuild-progress.format.js';
