/**
 * A promise the test controls: handlers `await gate.opened` to stay in flight until the test
 * calls {@link open}. Open it in a `finally` so a failed test never leaves a handler blocked.
 */
export class Gate {
  readonly opened: Promise<void>;
  private release!: () => void;
  private isOpen = false;

  constructor() {
    this.opened = new Promise<void>((resolve) => {
      this.release = resolve;
    });
  }

  /** Whether {@link open} was called. */
  get isOpened(): boolean {
    return this.isOpen;
  }

  /** Lets every waiter through, now and later. Idempotent. */
  open(): void {
    this.isOpen = true;
    this.release();
  }
}
