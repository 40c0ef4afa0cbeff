/**
 * Keys on the command line in the store's key type (the group file's `keyType`): arguments read
 * into values of that type and encoded with the store's own codec (core/keys), stored keys read
 * back and written as printable text or JSON. The CLI encodes keys itself, so a tuple prefix,
 * which no complete key can name, still bounds a scan exactly (the codec's prefixRange).
 *
 * Argument forms: bytes and string stores take the text as UTF-8; integer stores a decimal
 * (int64 and uint64 exactly, through BigInt); float stores a decimal, -0 or ±Infinity; tuple
 * stores a JSON array whose numbers are read from their text (BigInt-safe, bin/cli-json.ts), a
 * bytes component as a string (UTF-8) or {"base64": "..."}.
 */
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { GroupFile } from '../core/group-file.js';
import { keyCodec, type KeyCodec } from '../core/keys/key-codec.js';
import { formatKeyType, isScalarKeyType, parseKeyType, type KeyType, type KeyValue, type ScalarKeyType } from '../core/keys/key-type.js';
import { JsonNumber, JsonSyntaxError, parseJsonExact, type JsonValue } from './cli-json.js';
import { jsonBytes, printableBytes, printableText } from './printable.js';

/** Encoded bounds of a range: absent ends are open. */
export interface EncodedRange {
  gte?: Buffer;
  lt?: Buffer;
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

export class StoreKeys {
  readonly type: KeyType;
  readonly #codec: KeyCodec;

  constructor(keyType: string) {
    this.type = parseKeyType(keyType);
    this.#codec = keyCodec(this.type);
  }

  static of(group: GroupFile): StoreKeys {
    return new StoreKeys(group.keyType);
  }

  /** The stored bytes of a key argument; HPCKV_ERR_BAD_KEY naming `what` when it is not a key of the type. */
  encode(text: string, what = 'key'): Buffer {
    const value = this.#read(text, what);
    return this.#guard(what, JSON.stringify(text), () => this.#codec.encode(value));
  }

  /** The stored bytes of a key given inside JSON (a split point): the form a tuple's components take. */
  encodeJson(json: JsonValue, what: string): Buffer {
    const value = fromJson(json, this.type, what);
    return this.#guard(what, describe(json), () => this.#codec.encode(value));
  }

  /**
   * The range of keys that start with `text`: a byte prefix for string and bytes stores, the first
   * components (a JSON array) for tuple stores. Numbers have no prefixes: HPCKV_ERR_BAD_KEY.
   */
  prefixRange(text: string): EncodedRange {
    if (this.type === 'string' || this.type === 'bytes') {
      const gte = Buffer.from(text, 'utf8');
      const lt = byteSuccessor(gte);
      return { ...(gte.length === 0 ? {} : { gte }), ...(lt === undefined ? {} : { lt }) };
    }
    if (isScalarKeyType(this.type)) {
      throw new HpckvError(ErrorCodes.BAD_KEY, `--prefix needs a string, bytes or tuple store; this store's keys are ${this.type} (use --gte and --lt)`);
    }
    const tuple = this.type;
    const components = tupleComponents(parseJson(text, '--prefix'), tuple, '--prefix');
    const range = this.#guard('--prefix', JSON.stringify(text), () => this.#codec.prefixRange(components));
    return { ...(range.gte.length === 0 ? {} : { gte: range.gte }), ...(range.lt === null ? {} : { lt: range.lt }) };
  }

  /** A stored key as one printable line's field (the argument form, escaped where it is not printable). */
  lineText(stored: Uint8Array): string {
    const value = this.#decode(stored);
    if (value === undefined) return printableBytes(stored);
    if (this.type === 'string') return printableText(value as string);
    if (this.type === 'bytes') return printableBytes(value as Uint8Array);
    // A number as its argument is written: -0 and Infinity unquoted.
    if (typeof value === 'number') return numberText(value);
    return jsonKey(value, this.type);
  }

  /** A stored key as JSON text (int64 and uint64 as plain digits, exact). */
  jsonText(stored: Uint8Array): string {
    const value = this.#decode(stored);
    return value === undefined ? jsonBytes(stored) : jsonKey(value, this.type);
  }

  /** A key a map procedure made up need not be one of the store's type: undefined then. */
  #decode(stored: Uint8Array): KeyValue | undefined {
    if (this.type === 'bytes') return stored;
    try {
      return this.#codec.decode(stored);
    } catch {
      return undefined;
    }
  }

  #read(text: string, what: string): KeyValue {
    if (!isScalarKeyType(this.type)) return tupleComponents(parseJson(text, what), this.type, what);
    if (this.type === 'string') return text;
    if (this.type === 'bytes') return Buffer.from(text, 'utf8');
    const pattern = this.type.startsWith('float') ? DECIMAL : INTEGER;
    if (!pattern.test(text)) throw badKey(what, text, `${this.type} keys are written as decimal ${pattern === INTEGER ? 'integers' : 'numbers'}`);
    return scalarFromJson(new JsonNumber(text.replace(/^\+/, '')), this.type, what);
  }

  /** The codec's BAD_KEY (a value out of its type's range, say), with which argument it was about. */
  #guard<T>(what: string, shown: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof HpckvError && error.code === ErrorCodes.BAD_KEY) {
        throw new HpckvError(ErrorCodes.BAD_KEY, `${what} ${shown} is not a key of type ${formatKeyType(this.type)}: ${error.message}`,
          { details: error.details, cause: error });
      }
      throw error;
    }
  }
}

function badKey(what: string, text: string, why: string): HpckvError {
  return new HpckvError(ErrorCodes.BAD_KEY, `${what} ${JSON.stringify(text)}: ${why}`);
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return parseJsonExact(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw badKey(what, text, `a tuple key is a JSON array: ${error.message}`);
    throw error;
  }
}

/** A tuple's components (a prefix may have fewer; the codec checks what it needs). */
function tupleComponents(json: JsonValue, type: { readonly tuple: readonly KeyType[] }, where: string): KeyValue[] {
  if (!Array.isArray(json)) throw new HpckvError(ErrorCodes.BAD_KEY, `${where}: a ${formatKeyType(type)} key is a JSON array`);
  if (json.length > type.tuple.length) {
    throw new HpckvError(ErrorCodes.BAD_KEY, `${where}: a ${formatKeyType(type)} key has ${type.tuple.length} components, got ${json.length}`);
  }
  return json.map((item, i) => fromJson(item, type.tuple[i]!, `${where}[${i}]`));
}

function fromJson(json: JsonValue, type: KeyType, where: string): KeyValue {
  return isScalarKeyType(type) ? scalarFromJson(json, type, where) : tupleComponents(json, type, where);
}

function scalarFromJson(json: JsonValue, type: ScalarKeyType, where: string): KeyValue {
  const wrong = (form: string): HpckvError => new HpckvError(ErrorCodes.BAD_KEY, `${where}: expected ${form} (${type}), got ${describe(json)}`);
  switch (type) {
    case 'string':
      if (typeof json === 'string') return json;
      throw wrong('a JSON string');
    case 'bytes':
      if (typeof json === 'string') return Buffer.from(json, 'utf8');
      if (isBase64(json)) return Buffer.from(json['base64'] as string, 'base64');
      throw wrong('a JSON string (UTF-8) or {"base64": "..."}');
    case 'int64':
    case 'uint64':
      if (json instanceof JsonNumber && INTEGER.test(json.text)) return BigInt(json.text);
      throw wrong('an integer');
    case 'float32':
    case 'float64':
      if (json instanceof JsonNumber || (typeof json === 'string' && DECIMAL.test(json))) return Number(json instanceof JsonNumber ? json.text : json);
      throw wrong('a number (or "Infinity", "-Infinity")');
    default:
      if (json instanceof JsonNumber && INTEGER.test(json.text)) return Number(json.text);
      throw wrong('an integer');
  }
}

function isBase64(json: JsonValue): json is { base64: string } {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && !(json instanceof JsonNumber)
    && Object.keys(json).length === 1 && typeof json['base64'] === 'string';
}

/** JSON as written (numbers exact), for messages. */
function describe(json: JsonValue): string {
  if (json instanceof JsonNumber) return json.text;
  if (Array.isArray(json)) return `[${json.map(describe).join(',')}]`;
  if (typeof json === 'object' && json !== null) return `{${Object.entries(json).map(([name, value]) => `${JSON.stringify(name)}:${describe(value)}`).join(',')}}`;
  return JSON.stringify(json);
}

/** A decoded key as JSON, in the form the arguments take (numbers exact, -0 and ±Infinity kept). */
function jsonKey(value: KeyValue, type: KeyType): string {
  if (!isScalarKeyType(type)) return `[${(value as readonly KeyValue[]).map((item, i) => jsonKey(item, type.tuple[i]!)).join(',')}]`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? numberText(value) : JSON.stringify(String(value));
  if (typeof value === 'string') return JSON.stringify(value);
  return jsonBytes(value as Uint8Array);
}

/** A number the way the CLI reads it back: -0 kept. */
function numberText(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** The smallest byte string after every string that starts with `prefix`; none when it is all 0xff. */
function byteSuccessor(prefix: Buffer): Buffer | undefined {
  const end = prefix.length - 1 - [...prefix].reverse().findIndex((byte) => byte !== 0xff);
  if (end >= prefix.length) return undefined;
  const next = Buffer.from(prefix.subarray(0, end + 1));
  next[end] = next[end]! + 1;
  return next;
}
