/**
 * The peers, @golevelup/nestjs-rabbitmq and @nestjs/microservices' RMQ transport, as variants of the publish and consume
 * scenarios: each runs in a worker process of its own (its own Nest version, from bench/peers/<name>/node_modules), and
 * measures itself with the bench's clock; the scenarios declare, fill, check and delete the queues as for raw and Tidings.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Envelope } from '@tidings/core';
import type { Measurement } from '../support/stats.js';
import { RABBITMQ_URL, type BenchBroker, type QueueType, type RawPublication } from '../rabbitmq/broker.js';
import type { ConsumeVariant } from '../rabbitmq/consume.scenario.js';
import { EVENT_TYPE, handWritten, PAYLOAD } from '../rabbitmq/payload.js';
import type { PublishVariant } from '../rabbitmq/publish.scenario.js';
import { IN_FLIGHT, PAYLOAD as PEER_PAYLOAD, PREFETCH, type PeerCommand, type PeerReply } from './protocol.js';

if (JSON.stringify(PEER_PAYLOAD) !== JSON.stringify(PAYLOAD)) throw new Error('bench/peers/protocol.ts no longer has the bench payload');

interface Peer {
  readonly name: 'golevelup' | 'nest-microservices';
  readonly publishLabel: string;
  readonly consumeLabel: string;
  /** The message a filled queue holds for this peer: the raw consumer's, unless the peer's wire format differs. */
  readonly fill?: (envelope: Envelope) => RawPublication;
}

const PEERS: readonly Peer[] = [
  {
    name: 'golevelup',
    publishLabel: `golevelup publish(), ${IN_FLIGHT} in flight, confirmed`,
    consumeLabel: `golevelup @RabbitSubscribe, prefetch ${PREFETCH}`,
  },
  {
    name: 'nest-microservices',
    publishLabel: `nest microservices emit(), ${IN_FLIGHT} in flight, confirmed`,
    consumeLabel: `nest microservices @EventPattern, manual ack, prefetch ${PREFETCH}`,
    // Its server routes by the pattern in the body, so the queue holds its packets: the same message, wrapped.
    fill: (envelope) => ({
      ...handWritten(envelope),
      content: Buffer.from(JSON.stringify({ pattern: envelope.type, data: envelope.data })),
    }),
  },
];

/** A peer's worker process, forked on its first run and serving one run at a time. */
class PeerWorker {
  private child: ChildProcess | undefined;

  constructor(private readonly peer: Peer['name']) {}

  async run(mode: PeerCommand['mode'], exchange: string, queue: string, queueType: QueueType, n: number): Promise<Measurement> {
    const command: PeerCommand = { mode, url: RABBITMQ_URL, exchange, routingKey: EVENT_TYPE, queue, queueType, messages: n };
    const child = (this.child ??= this.fork());
    const reply = await new Promise<PeerReply>((resolve, reject) => {
      const exited = (code: number | null): void => reject(new Error(`the ${this.peer} worker exited (${code}) during a run`));
      child.once('exit', exited);
      child.once('message', (message: PeerReply) => {
        child.off('exit', exited);
        resolve(message);
      });
      child.send(command);
    });
    if (!reply.ok) throw new Error(`${this.peer} ${mode} failed: ${reply.error}`);
    if (reply.count !== n) throw new Error(`${this.peer} ${mode}: ${reply.count} messages instead of ${n}`);
    return reply.measurement;
  }

  /** Lets the worker exit (it does when its channel closes), killing it if it does not within 10 s. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private fork(): ChildProcess {
    const main = new URL(`../../peers/${this.peer}/dist/peers/${this.peer}/main.js`, import.meta.url);
    // Its output (Nest's warnings and errors) goes to stderr with the bench's progress, never into the table on stdout.
    const child = fork(fileURLToPath(main), [], { stdio: ['ignore', 2, 2, 'ipc'] });
    child.on('error', () => undefined); // a failed fork shows as `exit` in `run`
    return child;
  }
}

/** The peers' publish variants; the caller closes them (their workers) after its last run. */
export const peerPublishVariants = (exchange: string): PublishVariant[] =>
  PEERS.map((peer) => {
    const worker = new PeerWorker(peer.name);
    return {
      variant: peer.name,
      label: peer.publishLabel,
      side: 'peer',
      // Both send the JSON body alone (Nest wraps it in its packet), no headers: the wire format of `raw, body only`.
      reference: 'raw-bare',
      measure: (queue, queueType, n) => worker.run('publish', exchange, queue, queueType, n),
      close: () => worker.close(),
    };
  });

/** The peers' consume variants; the caller closes them (their workers) after its last run. */
export const peerConsumeVariants = (): ConsumeVariant[] =>
  PEERS.map((peer) => {
    const worker = new PeerWorker(peer.name);
    return {
      variant: peer.name,
      label: peer.consumeLabel,
      side: 'peer',
      ...(peer.fill && { fill: peer.fill }),
      consume: (broker: BenchBroker, queue: string, queueType: QueueType, n: number) =>
        worker.run('consume', broker.exchange, queue, queueType, n),
      close: () => worker.close(),
    };
  });
