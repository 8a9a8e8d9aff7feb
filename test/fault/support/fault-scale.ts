/**
 * `npm run test:fault` sets `FAULT_SCALE=full`: the figures (a 60 s alarm, 10 relay kills...). `npm test`, and so
 * CI, runs the same faults at a shorter scale, so the suite stays within a few minutes there.
 */
const FULL_SCALE = process.env['FAULT_SCALE'] === 'full';

/** `short` in CI's run, `full` under `npm run test:fault`. */
export const scaled = <T>(short: T, full: T): T => (FULL_SCALE ? full : short);
