import type { Utf8Range } from './sandbox-utf8.js';

/**
 * The msgpack reader of the sandbox helpers (sandbox-helpers.ts): `decodeMsgpack` builds a whole
 * value, `msgpackGet` one field of it, skipping the others unbuilt. `utf8Range` is the UTF-8 part
 * (sandbox-utf8.ts). Like the other helper parts, `sandboxMsgpack` is never called on the host by
 * the pool: its source text is injected into every sandbox context, so it must stay
 * self-contained (no runtime import, no outer name).
 */
export function sandboxMsgpack(utf8Range: Utf8Range): {
  decodeMsgpack(bytes: Uint8Array): unknown;
  msgpackGet(bytes: Uint8Array, path: unknown): unknown;
} {
  // Taken when the helpers are made, before the sandbox runtime replaces Date with a clockless one.
  const RealDate = Date;
  const DEPTH_MAX = 512;

  // The decoder's state lives here, not in per-call closures: a decode allocates only its values.
  // Multi-byte numbers are read with byte arithmetic, not a DataView: making a DataView per decode
  // cost about a quarter of a microsecond, as much as decoding a small map. Floats go through a
  // scratch buffer in the machine's byte order.
  let bytes: Uint8Array = new Uint8Array(0);
  let pos = 0;
  const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const f64 = new Float64Array(1);
  const f64Bytes = new Uint8Array(f64.buffer);
  const f32 = new Float32Array(1);
  const f32Bytes = new Uint8Array(f32.buffer);
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new RangeError('msgpack: bytes end inside a value');
  };
  const float = (n: 4 | 8): number => {
    need(n);
    const scratch = n === 8 ? f64Bytes : f32Bytes;
    for (let j = 0; j < n; j++) scratch[LITTLE ? n - 1 - j : j] = bytes[pos + j]!;
    pos += n;
    return n === 8 ? f64[0]! : f32[0]!;
  };
  const u8 = (): number => { need(1); return bytes[pos++]!; };
  const u16 = (): number => { need(2); const v = (bytes[pos]! << 8) | bytes[pos + 1]!; pos += 2; return v; };
  const u32 = (): number => {
    need(4);
    const v = bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
    pos += 4;
    return v;
  };
  const i8 = (): number => (u8() << 24) >> 24;
  const i16 = (): number => (u16() << 16) >> 16;
  const i32 = (): number => u32() | 0;
  // 64-bit ints: a Number when it is a safe integer (|v| < 2^53), a BigInt otherwise.
  const int64 = (signed: boolean): number | bigint => {
    const hi = signed ? i32() : u32();
    const lo = u32();
    if (hi < 0x200000 && hi > -0x200000) return hi * 4294967296 + lo;
    const big = (BigInt(hi) << 32n) + BigInt(lo);
    return big <= 9007199254740991n && big >= -9007199254740991n ? Number(big) : big;
  };
  const str = (n: number): string => { need(n); const s = utf8Range(bytes, pos, pos + n, false); pos += n; return s; };
  // Map keys repeat from record to record: short ones are looked up by their bytes in a small
  // direct-mapped cache instead of being decoded again.
  const KEY_CACHE_SLOTS = 4096;
  const KEY_BYTES_MAX = 24;
  const cachedKeys = new Array<string>(KEY_CACHE_SLOTS).fill('');
  const cachedKeyLengths = new Int32Array(KEY_CACHE_SLOTS).fill(-1);
  const cachedKeyBytes = new Uint8Array(KEY_CACHE_SLOTS * KEY_BYTES_MAX);
  const keyStr = (n: number): string => {
    need(n);
    let h = n;
    for (let j = 0; j < n; j++) h = (h * 31 + bytes[pos + j]!) & (KEY_CACHE_SLOTS - 1);
    const base = h * KEY_BYTES_MAX;
    if (cachedKeyLengths[h] === n) {
      let j = 0;
      while (j < n && cachedKeyBytes[base + j] === bytes[pos + j]) j++;
      if (j === n) { pos += n; return cachedKeys[h]!; }
    }
    const s = utf8Range(bytes, pos, pos + n, false);
    for (let j = 0; j < n; j++) cachedKeyBytes[base + j] = bytes[pos + j]!;
    cachedKeyLengths[h] = n;
    cachedKeys[h] = s;
    pos += n;
    return s;
  };
  // A map key: fixstr and str8 up to KEY_BYTES_MAX bytes through the cache, anything else by read.
  const mapKey = (depth: number): unknown => {
    const b = bytes[pos];
    if (b !== undefined && b >= 0xa0 && b < 0xc0 && (b & 0x1f) <= KEY_BYTES_MAX) { pos++; return keyStr(b & 0x1f); }
    if (b === 0xd9 && pos + 1 < bytes.length && bytes[pos + 1]! <= KEY_BYTES_MAX) { pos += 2; return keyStr(bytes[pos - 1]!); }
    return read(depth);
  };
  const bin = (n: number): Uint8Array => { need(n); const b = bytes.slice(pos, pos + n); pos += n; return b; };
  const ext = (n: number): unknown => {
    need(1 + n);
    const type = (bytes[pos++]! << 24) >> 24;
    const data = bytes.slice(pos, pos + n);
    pos += n;
    if (type !== -1) return { type, data };
    const dv = new DataView(data.buffer);
    let seconds: number;
    let nanos = 0;
    if (n === 4) seconds = dv.getUint32(0);
    else if (n === 8) {
      const hi = dv.getUint32(0); const lo = dv.getUint32(4);
      nanos = hi >>> 2;
      seconds = (hi & 0x3) * 4294967296 + lo;
    } else if (n === 12) {
      nanos = dv.getUint32(0);
      seconds = Number(dv.getBigInt64(4));
    } else throw new RangeError(`msgpack: timestamp of ${n} bytes`);
    return new RealDate(seconds * 1000 + Math.floor(nanos / 1e6));
  };
  const array = (n: number, depth: number): unknown[] => {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = read(depth + 1);
    return out;
  };
  const map = (n: number, depth: number): unknown => {
    const start = pos;
    const out: Record<string, unknown> = {};
    let i = 0;
    for (; i < n; i++) {
      const k = mapKey(depth + 1);
      if (typeof k !== 'string' || k === '__proto__') break;
      out[k] = read(depth + 1);
    }
    if (i === n) return out;
    pos = start;
    const keys: unknown[] = [];
    const values: unknown[] = [];
    let plain = true;
    for (let i = 0; i < n; i++) {
      const k = read(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number') plain = false;
      keys.push(k);
      values.push(read(depth + 1));
    }
    if (!plain) return new Map(keys.map((k, i) => [k, values[i]]));
    const plainOut: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = String(keys[i]);
      if (k === '__proto__') Object.defineProperty(plainOut, k, { value: values[i], writable: true, enumerable: true, configurable: true });
      else plainOut[k] = values[i];
    }
    return plainOut;
  };
  function read(depth: number): unknown {
    if (depth > DEPTH_MAX) throw new RangeError(`msgpack: nested deeper than ${DEPTH_MAX}`);
    const b = u8();
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b < 0x90) return map(b & 0x0f, depth);
    if (b < 0xa0) return array(b & 0x0f, depth);
    if (b < 0xc0) return str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return bin(u8());
      case 0xc5: return bin(u16());
      case 0xc6: return bin(u32());
      case 0xc7: return ext(u8());
      case 0xc8: return ext(u16());
      case 0xc9: return ext(u32());
      case 0xca: return float(4);
      case 0xcb: return float(8);
      case 0xcc: return u8();
      case 0xcd: return u16();
      case 0xce: return u32();
      case 0xcf: return int64(false);
      case 0xd0: return i8();
      case 0xd1: return i16();
      case 0xd2: return i32();
      case 0xd3: return int64(true);
      case 0xd4: return ext(1);
      case 0xd5: return ext(2);
      case 0xd6: return ext(4);
      case 0xd7: return ext(8);
      case 0xd8: return ext(16);
      case 0xd9: return str(u8());
      case 0xda: return str(u16());
      case 0xdb: return str(u32());
      case 0xdc: return array(u16(), depth);
      case 0xdd: return array(u32(), depth);
      case 0xde: return map(u16(), depth);
      case 0xdf: return map(u32(), depth);
      default: throw new RangeError(`msgpack: byte 0x${b.toString(16)} starts no value`);
    }
  }
  function decodeMsgpack(input: Uint8Array): unknown {
    if (!(input instanceof Uint8Array)) throw new TypeError('hpckv.decodeMsgpack takes a Uint8Array');
    bytes = input;
    pos = 0;
    const value = read(0);
    if (pos !== bytes.length) throw new RangeError(`msgpack: ${bytes.length - pos} bytes after the value`);
    return value;
  }

  const advance = (n: number): void => { need(n); pos += n; };
  const skipMany = (n: number, depth: number): void => { for (let i = 0; i < n; i++) skip(depth + 1); };
  // Moves past one value without building it: msgpackGet passes over the fields it does not want.
  function skip(depth: number): void {
    if (depth > DEPTH_MAX) throw new RangeError(`msgpack: nested deeper than ${DEPTH_MAX}`);
    const b = u8();
    if (b < 0x80 || b >= 0xe0) return;
    if (b < 0x90) return skipMany(2 * (b & 0x0f), depth);
    if (b < 0xa0) return skipMany(b & 0x0f, depth);
    if (b < 0xc0) return advance(b & 0x1f);
    switch (b) {
      case 0xc0: case 0xc2: case 0xc3: return;
      case 0xc4: case 0xd9: return advance(u8());
      case 0xc5: case 0xda: return advance(u16());
      case 0xc6: case 0xdb: return advance(u32());
      case 0xc7: return advance(1 + u8());
      case 0xc8: return advance(1 + u16());
      case 0xc9: return advance(1 + u32());
      case 0xcc: case 0xd0: return advance(1);
      case 0xcd: case 0xd1: case 0xd4: return advance(2);
      case 0xd5: return advance(3);
      case 0xca: case 0xce: case 0xd2: return advance(4);
      case 0xd6: return advance(5);
      case 0xcb: case 0xcf: case 0xd3: return advance(8);
      case 0xd7: return advance(9);
      case 0xd8: return advance(17);
      case 0xdc: return skipMany(u16(), depth);
      case 0xdd: return skipMany(u32(), depth);
      case 0xde: return skipMany(2 * u16(), depth);
      case 0xdf: return skipMany(2 * u32(), depth);
      default: throw new RangeError(`msgpack: byte 0x${b.toString(16)} starts no value`);
    }
  }
  /**
   * The value at `path` (a map key, an array index, or an array of them for nested values) without
   * decoding the rest: fields before it are skipped unbuilt, fields after it are never read.
   * undefined when a key is absent, an index is out of range or a step meets a non-container.
   */
  function msgpackGet(input: Uint8Array, path: unknown): unknown {
    if (!(input instanceof Uint8Array)) throw new TypeError('hpckv.msgpackGet takes a Uint8Array');
    const steps: unknown[] = Array.isArray(path) ? path : [path];
    for (const step of steps) {
      if (typeof step !== 'string' && !(typeof step === 'number' && Number.isSafeInteger(step))) {
        throw new TypeError('hpckv.msgpackGet: a path step is a string key or an integer');
      }
    }
    bytes = input;
    pos = 0;
    for (const step of steps) {
      const b = u8();
      let n: number;
      let isMap: boolean;
      if (b >= 0x80 && b < 0xa0) { n = b & 0x0f; isMap = b < 0x90; }
      else if (b === 0xdc || b === 0xde) { n = u16(); isMap = b === 0xde; }
      else if (b === 0xdd || b === 0xdf) { n = u32(); isMap = b === 0xdf; }
      else return undefined;
      if (isMap) {
        let i = 0;
        for (; i < n; i++) {
          if (mapKey(1) === step) break;
          skip(1);
        }
        if (i === n) return undefined;
      } else {
        if (typeof step !== 'number' || step < 0 || step >= n) return undefined;
        skipMany(step, 0);
      }
    }
    return read(0);
  }

  return { decodeMsgpack, msgpackGet };
}
