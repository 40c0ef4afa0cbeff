import { sandboxHelpersSource, type sandboxHelpers } from './sandbox-helpers.js';
import type { KeyType } from '../core/keys/index.js';

/** Prefixes of the messages of errors the runtime throws; the isolate runner reads them back. */
export const FAILURE_TAG = 'hpckv-procedure-failed:';
export const MEMORY_TAG = 'hpckv-procedure-memory:';
export const SHAPE_TAG = 'hpckv-procedure-shape:';

/**
 * The source run first in every sandbox context: the helpers' maker (`sandboxHelpersSource`) and
 * `sandboxRuntime` as text, applied to the key type. Its completion value is the runtime's `bind`
 * function.
 */
export function sandboxRuntimeSource(keyType: KeyType): string {
  return `(${sandboxRuntime.toString()})(${sandboxHelpersSource()}, ${JSON.stringify(keyType)}, ${JSON.stringify([FAILURE_TAG, MEMORY_TAG, SHAPE_TAG])})`;
}

type Helpers = ReturnType<typeof sandboxHelpers>;
type Run = (op: string, input: unknown) => unknown;

/**
 * Runs INSIDE a sandbox context (injected as text: self-contained). Locks the global down, defines
 * `hpckv`, and returns `bind(mode, kind, procedure, args)`:
 * - mode 'check': checks the procedure's shape (throws a SHAPE_TAG error);
 * - mode 'job': returns `run(op, input)` for ops 'filter' | 'map' | 'step' (input: a packed batch,
 *   see batch-layout.ts) and 'result'; a reduce's accumulator lives in this closure;
 */
function sandboxRuntime(makeHelpers: (keyType: unknown) => Helpers, keyType: unknown, tags: string[]):
  (mode: string, kind: string, procedure: unknown, args: unknown) => Run | undefined {
  const [FAILED, MEMORY, SHAPE] = tags as [string, string, string];
  const helpers = makeHelpers(keyType);
  const g = globalThis as unknown as Record<string, unknown>;

  // Lockdown: no clock, no randomness, no shared memory, no code outside JS, no GC observation.
  for (const name of ['eval', 'console', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'FinalizationRegistry', 'WeakRef', 'Intl']) {
    delete g[name];
  }
  delete (Math as { random?: unknown }).random;
  const RealDate = Date;
  const noClock = (): never => { throw new TypeError('procedures have no clock: Date() and new Date() need a time value'); };
  const SafeDate = function (this: unknown, ...args: unknown[]): unknown {
    if (new.target === undefined || args.length === 0) return noClock();
    return Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperty(SafeDate, 'prototype', { value: RealDate.prototype });
  Object.defineProperty(SafeDate, 'UTC', { value: RealDate.UTC });
  Object.defineProperty(SafeDate, 'parse', { value: RealDate.parse });
  Object.defineProperty(RealDate.prototype, 'constructor', { value: SafeDate });
  g['Date'] = SafeDate;
  Object.defineProperty(g, 'hpckv', {
    value: Object.freeze({ decodeMsgpack: helpers.decodeMsgpack, msgpackGet: helpers.msgpackGet, decodeKey: helpers.decodeKey, utf8: helpers.utf8 }),
    enumerable: false, writable: false, configurable: false,
  });

  const describe = (error: unknown): string => {
    try {
      if (error instanceof Error) return `${error.name}: ${error.message}`;
      return `threw ${typeof error === 'string' ? error : JSON.stringify(error)}`;
    } catch {
      return 'threw a value that cannot be described';
    }
  };
  const failure = (error: unknown, entry: number): Error => {
    // Refused outside the heap limit, and the isolate lives on: an ArrayBuffer beyond the memory
    // isolated-vm's allocator allows, a string beyond V8's longest (2 ** 29 - 24 characters).
    const memory = error instanceof RangeError && /allocation failed|Invalid array buffer length|Invalid string length/.test(error.message);
    return new Error((memory ? MEMORY : FAILED) + JSON.stringify({ message: describe(error), entry }));
  };
  const wrongShape = (why: string, entry: number): Error => new Error(FAILED + JSON.stringify({ message: why, entry }));
  const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

  // A packed batch: u32 count, then u32 key length and u32 value length per entry, then the bytes.
  const unpack = (buffer: ArrayBuffer): { keys: Uint8Array[]; values: Uint8Array[] } => {
    const count = new Uint32Array(buffer, 0, 1)[0]!;
    const lengths = new Uint32Array(buffer, 4, 2 * count);
    const keys = new Array<Uint8Array>(count);
    const values = new Array<Uint8Array>(count);
    let at = 4 + 8 * count;
    for (let i = 0; i < count; i++) {
      keys[i] = new Uint8Array(buffer, at, lengths[2 * i]!);
      at += lengths[2 * i]!;
      values[i] = new Uint8Array(buffer, at, lengths[2 * i + 1]!);
      at += lengths[2 * i + 1]!;
    }
    return { keys, values };
  };
  const bytesOf = (value: unknown): Uint8Array | undefined =>
    value instanceof Uint8Array ? value : typeof value === 'string' ? helpers.encodeUtf8(value) : undefined;

  // Map outputs: u32 count, then u32 index, key length (0xffffffff: keep the entry's key) and value length each, then the bytes.
  const packOutputs = (outputs: Array<{ index: number; key: Uint8Array | undefined; value: Uint8Array }>): ArrayBuffer => {
    let bytes = 0;
    for (const o of outputs) bytes += (o.key?.length ?? 0) + o.value.length;
    const head = 4 + 12 * outputs.length;
    const buffer = new ArrayBuffer(head + bytes);
    const header = new Uint32Array(buffer, 0, 1 + 3 * outputs.length);
    const out = new Uint8Array(buffer);
    header[0] = outputs.length;
    let at = head;
    outputs.forEach((o, j) => {
      header[1 + 3 * j] = o.index;
      header[2 + 3 * j] = o.key === undefined ? 0xffffffff : o.key.length;
      header[3 + 3 * j] = o.value.length;
      if (o.key !== undefined) { out.set(o.key, at); at += o.key.length; }
      out.set(o.value, at);
      at += o.value.length;
    });
    return buffer;
  };

  const checkShape = (kind: string, p: unknown): void => {
    if (kind === 'reduce') {
      const r = p as Record<string, unknown> | null;
      if (typeof r !== 'object' || r === null) throw new Error(`${SHAPE}a reduce is an object { init, step, combine }, got ${typeOf(r)}`);
      for (const name of ['init', 'step', 'combine']) {
        if (typeof r[name] !== 'function') throw new Error(`${SHAPE}a reduce needs a function ${name}, got ${typeOf(r[name])}`);
      }
    } else if (typeof p !== 'function') {
      throw new Error(`${SHAPE}a ${kind} is a function (key, value, args), got ${typeOf(p)}`);
    }
  };

  return (mode, kind, procedure, args) => {
    checkShape(kind, procedure);
    if (mode === 'check') return undefined;
    const reduce = procedure as { init(a: unknown): unknown; step(acc: unknown, k: Uint8Array, v: Uint8Array, a: unknown): unknown };
    let acc: unknown;
    if (kind === 'reduce') {
      try { acc = reduce.init(args); } catch (error) { throw failure(error, -1); }
    }
    const fn = procedure as (k: Uint8Array, v: Uint8Array, a: unknown) => unknown;
    return (op, input) => {
      if (op === 'result') return acc;
      const { keys, values } = unpack(input as ArrayBuffer);
      const count = keys.length;
      let i = 0;
      if (op === 'filter') {
        const passed = new Uint32Array(count);
        let n = 0;
        try {
          for (; i < count; i++) {
            const r = fn(keys[i]!, values[i]!, args);
            if (r === true) passed[n++] = i;
            else if (r !== false) throw wrongShape(`a filter returns true or false, got ${typeOf(r)}`, i);
          }
        } catch (error) {
          throw error instanceof Error && error.message.startsWith(FAILED) ? error : failure(error, i);
        }
        return passed.slice(0, n).buffer;
      }
      if (op === 'map') {
        const outputs: Array<{ index: number; key: Uint8Array | undefined; value: Uint8Array }> = [];
        try {
          for (; i < count; i++) {
            const r = fn(keys[i]!, values[i]!, args) as { key?: unknown; value?: unknown } | undefined;
            if (r === undefined) continue;
            if (typeof r !== 'object' || r === null) throw wrongShape(`a map returns { key?, value } or undefined, got ${typeOf(r)}`, i);
            const value = bytesOf(r.value);
            if (value === undefined) throw wrongShape(`a map's value is a Uint8Array or a string, got ${typeOf(r.value)}`, i);
            const key = r.key === undefined || r.key === null ? undefined : bytesOf(r.key);
            if (key === undefined && r.key !== undefined && r.key !== null) {
              throw wrongShape(`a map's key is a Uint8Array or a string, got ${typeOf(r.key)}`, i);
            }
            outputs.push({ index: i, key: key === undefined ? undefined : key.slice(), value: value.slice() });
          }
        } catch (error) {
          throw error instanceof Error && error.message.startsWith(FAILED) ? error : failure(error, i);
        }
        return packOutputs(outputs);
      }
      if (op === 'step') {
        try {
          for (; i < count; i++) acc = reduce.step(acc, keys[i]!, values[i]!, args);
        } catch (error) {
          throw failure(error, i);
        }
        return undefined;
      }
      throw new Error(`${FAILED}${JSON.stringify({ message: `unknown op ${op}`, entry: -1 })}`);
    };
  };
}
