/**
 * JSON from the command line with every number kept as its text, so an int64 or uint64 key
 * component like 9007199254740993 reaches BigInt exactly (JSON.parse would round it to a double;
 * Node 20 has no access to a number's source text). Only what keys need is read: arrays,
 * strings, numbers and objects (a bytes component's `{"base64": ...}`); `true`, `false` and
 * `null` are kept so the caller can say they are no key.
 */

/** A JSON number as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = JsonNumber | string | boolean | null | JsonValue[] | { [name: string]: JsonValue };

/** Thrown with the offset where the text stopped being JSON; callers turn it into their own error. */
export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;
const WORDS: ReadonlyArray<[string, boolean | null]> = [['true', true], ['false', false], ['null', null]];

/** Parses `text` (one JSON value, white space around it allowed). */
export function parseJsonExact(text: string): JsonValue {
  const reader = new Reader(text);
  const value = reader.value();
  reader.space();
  if (reader.pos !== text.length) throw reader.fail('unexpected text after the value');
  return value;
}

class Reader {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(why: string): JsonSyntaxError {
    return new JsonSyntaxError(`not JSON at offset ${this.pos}: ${why}`);
  }

  space(): void {
    this.pos = this.match(SPACE)!.length + this.pos;
  }

  value(): JsonValue {
    this.space();
    const char = this.text[this.pos];
    if (char === '[') return this.list(']', () => this.value());
    if (char === '{') return Object.fromEntries(this.list('}', () => this.member()));
    const string = this.match(STRING);
    if (string !== undefined) return this.take(string, JSON.parse(string) as string);
    const number = this.match(NUMBER);
    if (number !== undefined) return this.take(number, new JsonNumber(number));
    for (const [word, value] of WORDS) if (this.text.startsWith(word, this.pos)) return this.take(word, value);
    throw this.fail(char === undefined ? 'expected a value, found the end' : `unexpected ${JSON.stringify(char)}`);
  }

  /** Items separated by commas up to `close` (the opening bracket is at `pos`). */
  private list<T>(close: string, item: () => T): T[] {
    this.pos++;
    const items: T[] = [];
    this.space();
    if (this.text[this.pos] === close) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      this.space();
      const char = this.text[this.pos++];
      if (char === close) return items;
      if (char !== ',') throw this.fail(`expected "," or "${close}"`);
    }
  }

  private member(): [string, JsonValue] {
    this.space();
    const name = this.match(STRING);
    if (name === undefined) throw this.fail('expected a member name');
    this.pos += name.length;
    this.space();
    if (this.text[this.pos++] !== ':') throw this.fail('expected ":"');
    return [JSON.parse(name) as string, this.value()];
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    return pattern.exec(this.text)?.[0];
  }

  private take<T>(token: string, value: T): T {
    this.pos += token.length;
    return value;
  }
}
