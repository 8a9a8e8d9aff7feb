/** Where a command writes a line that keeps changing: redrawn in place on a terminal, one line per update elsewhere. */
export class ProgressOutput {
  private drawn = false;

  constructor(private readonly stream: NodeJS.WritableStream & { readonly isTTY?: boolean }) {}

  update(line: string): void {
    if (this.stream.isTTY) {
      // Carriage return and erase-line: the bar redraws in place instead of scrolling.
      this.stream.write(`\r\u001b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the line being redrawn, so what follows starts on a line of its own. */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
