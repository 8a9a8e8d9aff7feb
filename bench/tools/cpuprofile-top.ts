/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per origin (Tidings core,
 * RabbitMQ, TypeORM and NestJS packages, the sample apps, amqplib, typeorm, pg, zod, Node internals, GC, idle). With `--results`, only the
 * samples taken while the variant `--id` (exact, or a prefix ending in `*`) was measured count (the windows are in
 * the results file), so fills, warm-ups and set-up are left out.
 *
 *   node bench/dist/tools/cpuprofile-top.js PROFILE.cpuprofile [--results bench/results/X.json --id 'publish/quorum/*'] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { table } from '../support/stats.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface Profile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface Results {
  readonly results: readonly { readonly id: string; readonly windowsUs: readonly (readonly [number, number])[] }[];
}

const originOf = ({ functionName, url }: CallFrame): string => {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)' || functionName === '(root)') return 'program';
  if (/libs\/core\//.test(url)) return 'tidings core';
  if (/libs\/rabbitmq\//.test(url)) return 'tidings rabbitmq';
  if (/libs\/typeorm\//.test(url)) return 'tidings typeorm';
  if (/libs\/nestjs\//.test(url)) return 'tidings nestjs';
  if (/\/apps\/dist\//.test(url)) return 'sample apps';
  if (/node_modules\/amqplib\//.test(url)) return 'amqplib';
  if (/node_modules\/typeorm\//.test(url)) return 'typeorm';
  if (/node_modules\/(pg|pg-protocol|pg-types|pg-pool)\//.test(url)) return 'pg';
  if (/node_modules\/zod\//.test(url)) return 'zod';
  if (/\/bench\//.test(url)) return 'bench';
  if (url.startsWith('node:') || url === '') return 'node / v8';
  return 'other';
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { results: { type: 'string' }, id: { type: 'string' }, top: { type: 'string', default: '25' } },
});
const [file] = positionals;
if (!file) {
  console.error('usage: cpuprofile-top PROFILE.cpuprofile [--results RESULTS.json --id TEXT] [--top N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const windows = values.results
  ? (JSON.parse(readFileSync(values.results, 'utf8')) as Results).results
      .filter((r) => values.id === undefined || (values.id.endsWith('*') ? r.id.startsWith(values.id.slice(0, -1)) : r.id === values.id))
      .flatMap((r) => r.windowsUs)
  : undefined;
const counted = (at: number): boolean => !windows || windows.some(([from, to]) => at >= from && at <= to);

const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
const selfUs = new Map<string, number>();
const originUs = new Map<string, number>();
let totalUs = 0;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  const frame = byId.get(id);
  if (!frame || !counted(at)) return;
  totalUs += delta;
  const where = frame.url ? `${frame.url.replace(/^.*\/(libs|node_modules|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  const key = `${frame.functionName || '(anonymous)'}\u0000${where}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
  const origin = originOf(frame);
  originUs.set(origin, (originUs.get(origin) ?? 0) + delta);
});
const busyUs = totalUs - (originUs.get('idle') ?? 0);
const pct = (us: number, of: number): string => `${((100 * us) / of).toFixed(1)}%`;
const ms = (us: number): string => (us / 1000).toFixed(0);

const scope = windows ? ` in ${windows.length} measured run(s)` : '';
console.log(`profile: ${ms(totalUs)} ms sampled${scope}, ${ms(busyUs)} ms busy (${pct(busyUs, totalUs)} of the time)\n`);
console.log(
  table(
    ['origin', 'self ms', '% of busy'],
    [...originUs].sort((a, b) => b[1] - a[1]).map(([origin, us]) => [origin, ms(us), origin === 'idle' ? '' : pct(us, busyUs)]),
    [false, true, true],
  ),
);
console.log('');
console.log(
  table(
    ['function', 'where', 'self ms', '% of busy'],
    [...selfUs]
      .filter(([key]) => !key.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(values.top))
      .map(([key, us]) => {
        const [name = '', where = ''] = key.split('\u0000');
        return [name, where, ms(us), pct(us, busyUs)];
      }),
    [false, false, true, true],
  ),
);
