/**
 * The natural order of checked keys (see key-check.ts), computed on values, not on encodings, so
 * that tests can hold the encodings to it and merges need not encode:
 * - numbers and bigints numerically; for floats -0 < +0 (as their encodings order them);
 * - strings by Unicode code point, NOT by UTF-16 code unit as JS `<` does: they differ when an
 *   astral character (a surrogate pair, 0xD800..) meets a BMP character in U+E000..U+FFFF;
 * - bytes lexicographically by unsigned byte, shorter first on a common prefix;
 * - tuples lexicographically by component, a prefix (fewer components) before its extensions.
 */

import { isScalarKeyType, type KeyType, type KeyValue, type ScalarKeyType } from './key-type.js';

export function compareChecked(type: KeyType, a: KeyValue, b: KeyValue): number {
  if (isScalarKeyType(type)) return compareScalar(type, a, b);
  const x = a as readonly KeyValue[];
  const y = b as readonly KeyValue[];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = compareChecked(type.tuple[i]!, x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return sign(x.length - y.length);
}

function compareScalar(type: ScalarKeyType, a: KeyValue, b: KeyValue): number {
  switch (type) {
    case 'string': return compareCodePoints(a as string, b as string);
    case 'bytes': return sign(Buffer.compare(a as Uint8Array, b as Uint8Array));
    case 'float32':
    case 'float64':
      if (a === 0 && b === 0) return (Object.is(a, -0) ? 0 : 1) - (Object.is(b, -0) ? 0 : 1);
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    default:
      return (a as number | bigint) < (b as number | bigint) ? -1 : (a as number | bigint) > (b as number | bigint) ? 1 : 0;
  }
}

function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return sign((a.length - i) - (b.length - j));
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
