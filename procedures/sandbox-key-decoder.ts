import type { Utf8Range } from './sandbox-utf8.js';

/**
 * The key decoder of the sandbox helpers (sandbox-helpers.ts): the inverse of core/keys'
 * encodings (fixed-width.ts, terminated-bytes.ts, tuple-encoding.ts) for the pool's key type,
 * int64/uint64 as BigInt like keyCodec.decode; malformed bytes throw. `utf8Range` is the UTF-8
 * part (sandbox-utf8.ts). Like the other helper parts, `sandboxKeyDecoder` is never called on the
 * host by the pool: its source text is injected into every sandbox context, so it must stay
 * self-contained (no runtime import, no outer name).
 */
export function sandboxKeyDecoder(keyType: unknown, utf8Range: Utf8Range): (bytes: Uint8Array) => unknown {
  const WIDTH: Record<string, number> = { int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8 };
  const TAGS: Record<string, number> = {
    bytes: 0x01, string: 0x02, tuple: 0x05, int32: 0x10, uint32: 0x11, int64: 0x12, uint64: 0x13, float32: 0x20, float64: 0x21,
  };
  const badKey = (why: string): Error => new TypeError(`hpckv.decodeKey: ${why}`);
  function fixed(type: string, bytes: Uint8Array, at: number): number | bigint {
    const b = bytes.slice(at, at + WIDTH[type]!);
    const dv = new DataView(b.buffer);
    switch (type) {
      case 'int32': b[0]! ^= 0x80; return dv.getInt32(0);
      case 'uint32': return dv.getUint32(0);
      case 'int64': b[0]! ^= 0x80; return dv.getBigInt64(0);
      case 'uint64': return dv.getBigUint64(0);
      default: {
        if ((b[0]! & 0x80) !== 0) b[0]! &= 0x7f;
        else for (let i = 0; i < b.length; i++) b[i] = ~b[i]! & 0xff;
        const v = type === 'float32' ? dv.getFloat32(0) : dv.getFloat64(0);
        if (v !== v) throw badKey('the bytes are a NaN');
        return v;
      }
    }
  }
  function terminated(bytes: Uint8Array, at: number): { content: Uint8Array; next: number } {
    const parts: number[] = [];
    let i = at;
    while (i < bytes.length) {
      const byte = bytes[i]!;
      if (byte !== 0) { parts.push(byte); i++; }
      else if (bytes[i + 1] === 0xff) { parts.push(0); i += 2; }
      else return { content: Uint8Array.from(parts), next: i + 1 };
    }
    throw badKey('the bytes end inside a component');
  }
  function components(types: unknown[], bytes: Uint8Array, at: number): { values: unknown[]; next: number } {
    const values: unknown[] = [];
    for (const type of types) {
      const tag = typeof type === 'string' ? TAGS[type] : TAGS['tuple'];
      if (bytes[at] !== tag) throw badKey(`no ${typeof type === 'string' ? type : 'tuple'} tag at offset ${at}`);
      at++;
      if (typeof type !== 'string') {
        const inner = components((type as { tuple: unknown[] }).tuple, bytes, at);
        if (bytes[inner.next] !== 0) throw badKey('a nested tuple is not terminated');
        values.push(inner.values);
        at = inner.next + 1;
      } else if (type in WIDTH) {
        if (at + WIDTH[type]! > bytes.length) throw badKey('the bytes end inside a component');
        values.push(fixed(type, bytes, at));
        at += WIDTH[type]!;
      } else {
        const { content, next } = terminated(bytes, at);
        values.push(type === 'string' ? utf8Range(content, 0, content.length, true) : content);
        at = next;
      }
    }
    return { values, next: at };
  }
  function decodeKey(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('hpckv.decodeKey takes a Uint8Array');
    if (typeof keyType !== 'string') {
      const { values, next } = components((keyType as { tuple: unknown[] }).tuple, bytes, 0);
      if (next !== bytes.length) throw badKey(`${bytes.length - next} bytes after the key`);
      return values;
    }
    if (keyType in WIDTH) {
      if (bytes.length !== WIDTH[keyType]) throw badKey(`${bytes.length} bytes, not ${WIDTH[keyType]}`);
      return fixed(keyType, bytes, 0);
    }
    if (keyType === 'string') return utf8Range(bytes, 0, bytes.length, true);
    return bytes.slice();
  }

  return decodeKey;
}
