/**
 * Key types: what a store's keys are (fixed per store, recorded in its group file as text).
 *
 * Text form (case-sensitive, canonical output has no spaces; whitespace around tokens is accepted):
 *
 *     type   := scalar | "tuple(" type ("," type)* ")"
 *     scalar := int32 | uint32 | int64 | uint64 | float32 | float64 | string | bytes
 *
 * e.g. `int64`, `tuple(string,uint64)`, `tuple(int32,tuple(string,bytes),float64)`.
 * A tuple has at least one component and tuples nest at most `KEY_TYPE_DEPTH_MAX` deep, so a
 * hostile group file cannot make the parser or the codecs recurse without bound.
 * `formatKeyType(parseKeyType(t)) === t` for every canonical `t`, and
 * `parseKeyType(formatKeyType(k))` deep-equals `k` for every valid `k`.
 */

import { ErrorCodes, HpckvError } from '../errors.js';

export type ScalarKeyType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'string' | 'bytes';

export interface TupleKeyType {
  readonly tuple: readonly KeyType[];
}

export type KeyType = ScalarKeyType | TupleKeyType;

/**
 * A key as JS sees it: int32/uint32/float32/float64 are numbers, int64/uint64 bigints (a safe
 * integer number is taken too; they decode as bigints), string a JS string, bytes a Uint8Array (a
 * Buffer is one), a tuple an array of its components' values.
 */
export type KeyValue = number | bigint | string | Uint8Array | readonly KeyValue[];

export const SCALAR_KEY_TYPES: readonly ScalarKeyType[] = [
  'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bytes',
];

/** Deepest tuple nesting accepted (a top-level tuple is depth 1). */
export const KEY_TYPE_DEPTH_MAX = 8;

const SCALARS: ReadonlySet<string> = new Set(SCALAR_KEY_TYPES);

export function isScalarKeyType(type: KeyType): type is ScalarKeyType {
  return typeof type === 'string';
}

export function formatKeyType(type: KeyType): string {
  if (isScalarKeyType(type)) return type;
  return `tuple(${type.tuple.map(formatKeyType).join(',')})`;
}

function badType(message: string, text: string): HpckvError {
  return new HpckvError(ErrorCodes.BAD_CONFIG, message, { details: { keyType: text } });
}

export function parseKeyType(text: string): KeyType {
  if (typeof text !== 'string') throw badType('key type must be a string', String(text));
  const parser = new Parser(text);
  const type = parser.type(0);
  parser.skipSpace();
  if (!parser.atEnd()) throw parser.fail('unexpected text after the key type');
  return type;
}

/** A recursive-descent parser over the grammar above; `pos` only moves forward. */
class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  fail(why: string): HpckvError {
    return badType(`bad key type "${this.text}" at offset ${this.pos}: ${why}`, this.text);
  }

  type(depth: number): KeyType {
    this.skipSpace();
    const start = this.pos;
    while (!this.atEnd() && /[a-z0-9]/.test(this.text[this.pos]!)) this.pos++;
    const word = this.text.slice(start, this.pos);
    if (SCALARS.has(word)) return word as ScalarKeyType;
    if (word !== 'tuple') {
      this.pos = start;
      throw this.fail(word === '' ? 'expected a key type' : `unknown key type "${word}"`);
    }
    if (depth + 1 > KEY_TYPE_DEPTH_MAX) throw this.fail(`tuples nest deeper than ${KEY_TYPE_DEPTH_MAX}`);
    this.expect('(');
    const components: KeyType[] = [this.type(depth + 1)];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ')') {
        this.pos++;
        return { tuple: components };
      }
      this.expect(',');
      components.push(this.type(depth + 1));
    }
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== char) throw this.fail(`expected "${char}"`);
    this.pos++;
  }
}

/**
 * Checks a key type built in code (not parsed), e.g. one a caller passes to `keyCodec`: the same
 * rules as the text form. A bad type is a configuration error (HPCKV_ERR_BAD_CONFIG).
 */
export function assertKeyType(type: unknown, depth = 0): asserts type is KeyType {
  if (typeof type === 'string') {
    if (!SCALARS.has(type)) throw badType(`unknown key type "${type}"`, type);
    return;
  }
  const components: unknown = typeof type === 'object' && type !== null ? (type as { tuple?: unknown }).tuple : undefined;
  if (!Array.isArray(components) || components.length === 0) {
    throw badType('a key type is a scalar type name or { tuple: [at least one key type] }', describe(type));
  }
  if (depth + 1 > KEY_TYPE_DEPTH_MAX) throw badType(`tuples nest deeper than ${KEY_TYPE_DEPTH_MAX}`, describe(type));
  for (const component of components) assertKeyType(component, depth + 1);
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
