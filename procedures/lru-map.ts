/** A Map that keeps at most `max` entries, dropping the least recently used (`get` or `set`). */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number, private readonly onEvict: (key: K, value: V) => void = () => {}) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`LruMap size must be a positive integer, got ${max}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) {
      const [oldKey, oldValue] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldKey);
      this.onEvict(oldKey, oldValue);
    }
  }

  delete(key: K): void {
    if (!this.entries.has(key)) return;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.onEvict(key, value);
  }

  clear(): void {
    for (const [key, value] of this.entries) this.onEvict(key, value);
    this.entries.clear();
  }
}
