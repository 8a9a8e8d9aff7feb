import type { DeadLetterRecord } from '../conformance/conformance.target.js';
import type { DeadLetterReason } from '../transport/delivery-outcome.js';
import type { OutboundMessage } from '../transport/transport-message.js';

/** A dead letter held by the memory broker: the message as published, why it failed, and an id to replay it. */
export interface MemoryDeadLetter extends DeadLetterRecord {
  readonly id: number;
  /** The subscription (queue) that gave up on it. */
  readonly queue: string;
}

/** Dead letters of all queues of one memory broker, oldest first. */
export class MemoryDeadLetterStore {
  private readonly letters: MemoryDeadLetter[] = [];
  private nextId = 1;

  add(queue: string, message: OutboundMessage, reason: DeadLetterReason): MemoryDeadLetter {
    const letter: MemoryDeadLetter = { id: this.nextId++, queue, message, reason };
    this.letters.push(letter);
    return letter;
  }

  list(queue?: string): readonly MemoryDeadLetter[] {
    return queue === undefined ? [...this.letters] : this.letters.filter((l) => l.queue === queue);
  }

  /** Removes and returns a dead letter, or `undefined` if there is none with that id. */
  take(id: number): MemoryDeadLetter | undefined {
    const index = this.letters.findIndex((l) => l.id === id);
    return index < 0 ? undefined : this.letters.splice(index, 1)[0];
  }
}
