import type { RebuildProgress } from '@tidings/core';

const BAR_WIDTH = 24;
const number = new Intl.NumberFormat('en-US');

/** `1:05`, `1:02:03`: a duration in seconds as a clock reads it. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/**
 * One line of a rebuild's progress, e.g.
 * `feed  [##########..............]  42%  position 4,213 / 10,002  21,450 events/s  ETA 0:01  replaying`.
 */
export function formatRebuildProgress(progress: RebuildProgress): string {
  const { projection, phase, position, head, eventsPerSecond, etaSeconds } = progress;
  const fraction = head > 0 ? Math.min(1, position / head) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const rate = `${number.format(Math.round(eventsPerSecond))} events/s`;
  const eta = phase === 'done' ? 'done' : etaSeconds === undefined ? 'ETA --:--' : `ETA ${formatDuration(etaSeconds)}`;
  return `${projection}  ${bar} ${percent}  position ${number.format(position)} / ${number.format(head)}  ${rate}  ${eta}  ${phase}`;
}
