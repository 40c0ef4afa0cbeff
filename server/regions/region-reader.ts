import { ErrorCodes, HpckvError } from '../../core/errors.js';

/** Pulls or pushes one operation keeps in flight at once: the owner answers one while the next travels. */
export const TRANSFERS_IN_FLIGHT = 4;

/** Values below this size are joined with their neighbours into one piece; larger ones travel as they are. */
export const SMALL_VALUE_BYTES = 4096;

/**
 * Spans sorted and joined where the join still fits one chunk: a server whose entries are
 * scattered over the region (a hash group) pulls a few chunks holding them, not one message per
 * key and value; the bytes between its entries are the price.
 */
export function coalesceSpans(spans: ReadonlyArray<readonly [number, number]>, chunk: number): Array<[number, number]> {
  const sorted = [...spans].filter(([, length]) => length > 0).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [offset, length] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && offset + length - last[0] <= chunk) last[1] = Math.max(last[1], offset + length - last[0]);
    else out.push([offset, length]);
  }
  return out;
}

/**
 * What a put has pulled from a region: spans fetched in chunks (several in flight at once),
 * then read as views. Keeps a put's transfers to as few round trips as the chunk size allows.
 */
export class RegionReader {
  readonly #pull: (offset: number, length: number) => Promise<Buffer>;
  readonly #length: number;
  readonly #chunk: number;
  /** Fetched spans, sorted by offset, not overlapping. */
  #spans: Array<{ offset: number; bytes: Buffer }> = [];

  constructor(pull: (offset: number, length: number) => Promise<Buffer>, length: number, chunk: number) {
    this.#pull = pull;
    this.#length = length;
    this.#chunk = chunk;
  }

  /** Bytes already at hand (sent with the request). */
  provide(offset: number, bytes: Buffer): void {
    this.#spans = [...this.#spans, { offset, bytes }].sort((a, b) => a.offset - b.offset);
  }

  /** Fetches [offset, offset + length) where not fetched yet. */
  prefetch(offset: number, length: number): Promise<void> {
    return this.prefetchSpans([[offset, length]]);
  }

  async prefetchSpans(spans: ReadonlyArray<readonly [number, number]>): Promise<void> {
    const missing: Array<[number, number]> = [];
    for (const [offset, length] of spans) {
      if (offset + length > this.#length) {
        throw new HpckvError(ErrorCodes.BAD_LAYOUT, `packed layout: ${length} bytes at ${offset} run past the region's ${this.#length}`);
      }
      let at = offset;
      const end = offset + length;
      for (const span of this.#spans) {
        if (span.offset + span.bytes.length <= at) continue;
        if (span.offset >= end) break;
        if (span.offset > at) missing.push([at, span.offset - at]);
        at = Math.max(at, span.offset + span.bytes.length);
      }
      if (at < end) missing.push([at, end - at]);
    }
    // Chunk-sized pulls, a few in flight at once: the owner answers one while the next travels.
    const pulls: Array<[number, number]> = [];
    for (const [offset, length] of missing) {
      for (let at = 0; at < length; at += this.#chunk) pulls.push([offset + at, Math.min(this.#chunk, length - at)]);
    }
    const fetched: Array<{ offset: number; bytes: Buffer }> = [];
    for (let i = 0; i < pulls.length; i += TRANSFERS_IN_FLIGHT) {
      const batch = pulls.slice(i, i + TRANSFERS_IN_FLIGHT);
      const parts = await Promise.all(batch.map(([offset, length]) => this.#pull(offset, length)));
      parts.forEach((bytes, j) => fetched.push({ offset: batch[j]![0], bytes }));
    }
    if (fetched.length > 0) this.#spans = [...this.#spans, ...fetched].sort((a, b) => a.offset - b.offset);
  }

  /** The one fetched piece holding all of [offset, offset + length), or undefined. */
  contiguous(offset: number, length: number): Buffer | undefined {
    for (const span of this.#spans) {
      if (offset >= span.offset && offset + length <= span.offset + span.bytes.length) {
        return offset === span.offset && length === span.bytes.length ? span.bytes : span.bytes.subarray(offset - span.offset, offset - span.offset + length);
      }
    }
    return undefined;
  }

  /** A view of fetched bytes; a span crossing two fetched pieces is copied once. */
  get(offset: number, length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    for (let i = 0; i < this.#spans.length; i++) {
      const span = this.#spans[i]!;
      if (offset >= span.offset && offset < span.offset + span.bytes.length) {
        if (offset + length <= span.offset + span.bytes.length) return span.bytes.subarray(offset - span.offset, offset - span.offset + length);
        const parts: Buffer[] = [];
        let at = offset;
        for (let j = i; j < this.#spans.length && at < offset + length; j++) {
          const s = this.#spans[j]!;
          if (s.offset > at) break;
          const piece = s.bytes.subarray(at - s.offset, Math.min(s.bytes.length, offset + length - s.offset));
          parts.push(piece);
          at += piece.length;
        }
        if (at === offset + length) return Buffer.concat(parts, length);
        break;
      }
    }
    throw new HpckvError(ErrorCodes.INTERNAL, `region bytes ${offset}..${offset + length} were not fetched`);
  }
}
