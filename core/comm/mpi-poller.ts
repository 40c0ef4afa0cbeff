import { performance } from 'node:perf_hooks';

/**
 * When an mpi endpoint polls MPI next: from setImmediate while traffic flows (within `spinMs` of
 * the last), else after a sleep that doubles from 1 ms to `idleMsMax`; traffic from this side
 * wakes it at once. Why these numbers: mpi-endpoint.ts.
 */
export class MpiPoller {
  private readonly pollOnce: () => void;
  private readonly spinMs: number;
  private readonly idleMsMax: number;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastTrafficMs = performance.now();
  private idleDelayMs = 0;

  /** `pollOnce` polls and then calls schedule() for the next poll (or not, to stop). */
  constructor(pollOnce: () => void, spinMs: number, idleMsMax: number) {
    this.pollOnce = pollOnce;
    this.spinMs = spinMs;
    this.idleMsMax = idleMsMax;
  }

  start(): void {
    this.immediate = setImmediate(this.run);
  }

  /** Traffic seen at `now` (performance.now()): keep spinning. */
  sawTraffic(now: number): void {
    this.lastTrafficMs = now;
    this.idleDelayMs = 0;
  }

  schedule(now: number): void {
    if (now - this.lastTrafficMs < this.spinMs) {
      this.immediate = setImmediate(this.run);
      return;
    }
    this.idleDelayMs = Math.min(this.idleMsMax, Math.max(1, this.idleDelayMs * 2));
    this.timer = setTimeout(this.run, this.idleDelayMs);
  }

  /** Traffic from this side: poll from setImmediate again, at once if the poller was backing off. */
  wake(): void {
    this.sawTraffic(performance.now());
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(this.run);
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.pollOnce();
  };
}
