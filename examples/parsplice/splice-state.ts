import type { SegmentRecord } from './campaign-records.js';

interface Banked {
  key: string;
  record: SegmentRecord;
}

/**
 * The splicer's view of a campaign (no store in here): segments banked by start state, the
 * spliced trajectory, and the transition statistics it schedules from. A segment is spliced
 * when it starts in the state the trajectory ends in; segments from other states wait in the bank
 * until the trajectory gets there (and are wasted if it never does).
 */
export class SpliceState {
  end: string;
  splicedSteps = 0;
  readonly trajectory: string[] = [];
  segmentsSeen = 0;
  readonly states = new Set<string>();
  readonly #banked = new Map<string, Banked[]>();
  /** start -> end -> segments seen (spliced or not): the estimate of the state-to-state chain. */
  readonly #transitions = new Map<string, Map<string, number>>();

  constructor(readonly initial: string) {
    this.end = initial;
    this.states.add(initial);
  }

  add(key: string, record: SegmentRecord): void {
    this.segmentsSeen++;
    this.states.add(record.start);
    this.states.add(record.end);
    let queue = this.#banked.get(record.start);
    if (queue === undefined) this.#banked.set(record.start, queue = []);
    queue.push({ key, record });
    let row = this.#transitions.get(record.start);
    if (row === undefined) this.#transitions.set(record.start, row = new Map());
    row.set(record.end, (row.get(record.end) ?? 0) + 1);
  }

  /** Splices every banked segment that continues the trajectory; returns how many. */
  splice(): number {
    let used = 0;
    for (;;) {
      const next = this.#banked.get(this.end)?.shift();
      if (next === undefined) return used;
      if (next.record.start !== this.end) throw new Error(`segment ${next.key} starts in ${next.record.start}, not ${this.end}`);
      this.trajectory.push(next.key);
      this.splicedSteps += next.record.steps;
      this.end = next.record.end;
      used++;
    }
  }

  /** Segments seen and not (yet) spliced. */
  get unused(): number {
    return this.segmentsSeen - this.trajectory.length;
  }

  /**
   * Where the next `horizon` segments are most likely to be needed, as ParSplice's virtual
   * trajectories do: `walks` random walks from the trajectory's end first use up the banked
   * segments (their real end states), and where none is left, count one segment of demand for
   * that state and step on by the observed transition frequencies (a state never left is assumed
   * to stay). The weights are the demand per state: more workers on more likely states.
   */
  schedule(horizon: number, walks: number, random: () => number): Array<[string, number]> {
    const demand = new Map<string, number>();
    for (let w = 0; w < walks; w++) {
      const used = new Map<string, number>();
      let at = this.end;
      for (let step = 0; step < horizon; step++) {
        const queue = this.#banked.get(at) ?? [];
        const taken = used.get(at) ?? 0;
        if (taken < queue.length) {
          used.set(at, taken + 1);
          at = queue[taken]!.record.end;
          continue;
        }
        demand.set(at, (demand.get(at) ?? 0) + 1);
        at = this.#sampleNext(at, random);
      }
    }
    const entries = [...demand].map(([label, n]) => [label, n / walks] as [string, number]);
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return entries.length > 0 ? entries : [[this.end, 1]];
  }

  #sampleNext(from: string, random: () => number): string {
    const row = this.#transitions.get(from);
    if (row === undefined) return from;
    let total = 0;
    for (const n of row.values()) total += n;
    let pick = random() * total;
    for (const [to, n] of row) {
      pick -= n;
      if (pick < 0) return to;
    }
    return from;
  }
}

/** Picks a label from weighted entries (weights need not sum to 1). */
export function pickWeighted(entries: ReadonlyArray<readonly [string, number]>, random: () => number): string {
  let total = 0;
  for (const [, weight] of entries) total += weight;
  let pick = random() * total;
  for (const [label, weight] of entries) {
    pick -= weight;
    if (pick < 0) return label;
  }
  return entries[entries.length - 1]![0];
}
