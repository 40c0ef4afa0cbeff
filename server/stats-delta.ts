import type { DatabaseStats } from '../core/protocol/messages.js';

/** Value size marking a key that is not stored. */
export const ABSENT = -1;

/**
 * The change one write makes to a database's stats, built key by key before the write is issued
 * and added to the totals only once LevelDB has applied it.
 *
 * `readSize` gives a key's stored value size (or ABSENT). When one write names a key more than
 * once, the later entries must see the earlier ones' effect rather than the store, so such writes
 * keep an overlay of the sizes they have already set; writes without repeats skip the map.
 */
export class StatsDelta {
  records = 0;
  keyBytes = 0;
  valueBytes = 0;

  readonly #readSize: (key: Buffer) => number;
  readonly #overlay: Map<string, number> | null;

  constructor(readSize: (key: Buffer) => number, repeatsKeys: boolean) {
    this.#readSize = readSize;
    this.#overlay = repeatsKeys ? new Map() : null;
  }

  /** Records that `key` (lock id `id`) now holds `newSize` bytes, or is deleted when ABSENT. */
  set(id: string, key: Buffer, newSize: number): void {
    let oldSize = this.#overlay?.get(id);
    if (oldSize === undefined) oldSize = this.#readSize(key);
    this.#overlay?.set(id, newSize);
    this.change(key, oldSize, newSize);
  }

  /** Records a change whose old size the caller already knows (it read the value itself). */
  change(key: Buffer, oldSize: number, newSize: number): void {
    if (oldSize === ABSENT) {
      if (newSize === ABSENT) return;
      this.records++;
      this.keyBytes += key.length;
      this.valueBytes += newSize;
    } else if (newSize === ABSENT) {
      this.records--;
      this.keyBytes -= key.length;
      this.valueBytes -= oldSize;
    } else {
      this.valueBytes += newSize - oldSize;
    }
  }

  addTo(totals: DatabaseStats): void {
    totals.records += this.records;
    totals.keyBytes += this.keyBytes;
    totals.valueBytes += this.valueBytes;
  }
}
