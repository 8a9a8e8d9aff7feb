import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream';

/** How long shutdown waits for streams to send their end; only a client that stopped reading takes that long. */
export const STREAM_DRAIN_MS = 2000;

/**
 * The open `GET /feed/stream` responses, so that shutdown lets them end cleanly. `FeedChanges` completes every stream
 * when the application's modules are destroyed, but the responses finish writing a little later, and an HTTP server
 * told to close meanwhile would keep their keep-alive connections until they time out (5 s by default). Waiting here,
 * after the modules are destroyed and before the server closes, leaves only idle connections, which it closes at once.
 */
@Injectable()
export class OpenStreams implements BeforeApplicationShutdown {
  private readonly open = new Set<Promise<void>>();

  track(response: ServerResponse): void {
    const done = new Promise<void>((resolve) => finished(response, () => resolve()));
    this.open.add(done);
    void done.then(() => this.open.delete(done));
  }

  async beforeApplicationShutdown(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, STREAM_DRAIN_MS)));
    await Promise.race([Promise.all(this.open), deadline]);
    clearTimeout(timer);
  }
}
