/**
 * Records a read command prints: `key TAB value` lines, both printable (bin/printable.ts), or with
 * --json one JSON object a line, {"key": K, "value": V}, the key in its type's JSON form (int64
 * exact) and the value a string (UTF-8) or {"base64": "..."}. A write that fills stdout waits for
 * it to drain, so a long scan holds a page in memory, not the range; a reader that goes away
 * (`| head`) ends the output quietly instead of with an EPIPE stack.
 */
import type { Writable } from 'node:stream';
import { jsonBytes, printableBytes } from './printable.js';
import type { StoreKeys } from './store-keys.js';

/** How records are printed, for the read commands' usage. */
export const OUTPUT_NOTE = `Records are printed one a line, key TAB value, with backslashes, TABs, newlines and other control
characters escaped (\\\\ \\t \\n \\xNN), or with --json one object a line: {"key": K, "value": V}, the key
in its JSON form (int64 exact), the value a string or {"base64": "..."} when it is not UTF-8.`;

export class RecordOutput {
  readonly #keys: StoreKeys;
  readonly #json: boolean;
  readonly #out: Writable;
  #closed = false;

  constructor(keys: StoreKeys, json: boolean, out: Writable = process.stdout) {
    this.#keys = keys;
    this.#json = json;
    this.#out = out;
    out.on('error', () => { this.#closed = true; });
  }

  /** True once the reader has gone: the caller stops reading. */
  get closed(): boolean {
    return this.#closed;
  }

  async write(key: Uint8Array, value: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const line = this.#json
      ? `{"key":${this.#keys.jsonText(key)},"value":${jsonBytes(value)}}\n`
      : `${this.#keys.lineText(key)}\t${printableBytes(value)}\n`;
    if (this.#out.write(line)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#out.off('drain', done);
        this.#out.off('error', done);
        resolve();
      };
      this.#out.on('drain', done);
      this.#out.on('error', done);
    });
  }
}
