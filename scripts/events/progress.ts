/**
 * A one-line progress bar on a terminal (stderr); silent when the stream is not a
 * TTY, so logs and CI output stay clean.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    /** Total units (bytes of the input file); unknown for stdin. */
    private readonly total?: number,
    private readonly width = 30,
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(done: number, label: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.stream.write(`\r\x1b[K${renderProgress(done, this.total, label, this.width)}`);
    this.drawn = true;
  }

  /** Clears the bar so that the summary starts on a clean line. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function renderProgress(done: number, total: number | undefined, label: string, width = 30): string {
  if (!total) return label;
  const ratio = Math.min(1, Math.max(0, done / total));
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${label}`;
}
