import type { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/** Polls `condition` every 100 ms until it holds, or rejects after `timeoutMs` naming what was awaited. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(100);
  }
}

/** The arguments of the next `event` of `emitter`, or a rejection naming the event after `timeoutMs`. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for the '${event}' event`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}
