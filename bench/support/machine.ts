import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** What the figures were measured on: they only compare within one run on one machine. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly amqplib: string;
  readonly pg: string;
  readonly typeorm: string;
  readonly rabbitmq: string;
  readonly erlang: string;
  readonly loadAverageAtStart: readonly number[];
}

/** The installed version of a package whose `exports` hide its package.json. */
function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve(name));
  while (dir !== path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version ?? 'unknown';
    } catch {
      // no package.json here: go up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

export function machineInfo(serverProperties: Readonly<Record<string, unknown>>): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    amqplib: packageVersion('amqplib'),
    pg: packageVersion('pg'),
    typeorm: packageVersion('typeorm'),
    rabbitmq: String(serverProperties['version'] ?? 'unknown'),
    erlang: String(serverProperties['platform'] ?? 'unknown'),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
