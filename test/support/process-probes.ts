import { readFileSync, promises as fs } from 'node:fs';
import net from 'node:net';
import { waitUntil } from './wait-for.js';

/** Whether an OS process exists and is not a zombie (the reaper of detached nodes may be slow to collect them). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat is "pid (comm) state ...": the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether nothing listens on 127.0.0.1:port (a listener on 0.0.0.0 makes the bind fail too). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Whether an AMQP 0-9-1 server answers the protocol header with a method frame (connection.start). */
function answersAmqp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('data', (data) => done(data[0] === 1));
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
  });
}

/** Resolves once 127.0.0.1:port serves AMQP, or rejects at `deadline` (epoch ms). */
export async function waitForAmqp(port: number, deadline: number): Promise<void> {
  await waitUntil(() => answersAmqp(port), Math.max(0, deadline - Date.now()), `AMQP on 127.0.0.1:${port}`);
}

/** The last `lines` lines of a text file, or '' if it does not exist. */
export async function readTail(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n')
    .trimEnd();
}
