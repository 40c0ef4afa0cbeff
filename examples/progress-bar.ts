/**
 * A one-line progress bar on stderr. On a terminal it redraws in place; elsewhere (CI logs) it
 * prints a line every 25% so logs stay short.
 */
export class ProgressBar {
  private readonly label: string;
  private readonly total: number;
  private readonly tty: boolean;
  private readonly startedAt = process.hrtime.bigint();
  private lastQuarter = -1;
  private lastDrawMs = 0;

  constructor(label: string, total: number) {
    this.label = label;
    this.total = Math.max(1, total);
    this.tty = process.stderr.isTTY === true;
  }

  /** `detail` replaces the default rate (done per second) after the bar. */
  update(done: number, detail?: string): void {
    const fraction = Math.min(1, done / this.total);
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDrawMs < 50 && done < this.total) return;
      this.lastDrawMs = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
        `${(fraction * 100).toFixed(0).padStart(3)}% ${detail ?? `${done}/${this.total} ${this.rate(done)}`}\x1b[K`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      process.stderr.write(`${this.label}: ${(quarter * 25).toString().padStart(3)}% ${detail ?? `${done}/${this.total} ${this.rate(done)}`}\n`);
    }
  }

  finish(detail?: string): void {
    this.update(this.total, detail);
    if (this.tty) process.stderr.write('\n');
  }

  private rate(done: number): string {
    const seconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    return seconds > 0 ? `(${Math.round(done / seconds).toLocaleString('en-US')} ops/s)` : '';
  }
}
