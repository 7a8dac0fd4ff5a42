/** A one-line progress bar on stderr (no dependency); silent when stderr is not a terminal except at the end. */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw > 200 || this.done >= this.total) {
      this.lastDraw = now;
      this.draw();
    }
  }

  set(done: number): void {
    this.done = 0;
    this.tick(done);
  }

  finish(): void {
    this.done = this.total;
    this.draw(true);
    process.stderr.write('\n');
  }

  private draw(final = false): void {
    const share = this.total === 0 ? 1 : Math.min(1, this.done / this.total);
    const width = 30;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(this.done / seconds) : 0;
    const line = `${this.label.padEnd(28)} [${bar}] ${String(Math.round(share * 100)).padStart(3)}% ${this.done}/${this.total} ${rate}/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else if (final) process.stderr.write(line);
  }
}
