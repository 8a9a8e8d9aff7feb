/** One line per step on stderr, so stdout keeps only the table. */
export class Progress {
  private readonly started = performance.now();

  step(text: string): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${seconds}s] ${text}\n`);
  }
}
