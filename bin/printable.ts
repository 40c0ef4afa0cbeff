/**
 * Stored bytes as text a terminal shows and a line-based tool splits safely: one record per
 * line, fields separated by a TAB, so no field may hold a raw TAB, newline or other control
 * character. Escapes are C-style (`\\`, `\t`, `\n`, `\r`, `\xNN`); bytes that are not UTF-8 are
 * written as `\xNN` each. In JSON, bytes are a string when they are UTF-8, else {"base64": "..."}.
 */

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTROL = /[\\\u0000-\u001f\u007f]/g;
const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function hex(code: number): string {
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

/** A string with backslashes and control characters escaped. */
export function printableText(text: string): string {
  return text.replace(CONTROL, (char) => NAMED[char] ?? hex(char.charCodeAt(0)));
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** UTF-8 bytes as printable text; other bytes with every byte outside printable ASCII as \xNN. */
export function printableBytes(bytes: Uint8Array): string {
  const text = utf8(bytes);
  if (text !== undefined) return printableText(text);
  let out = '';
  for (const byte of bytes) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : hex(byte);
  return out;
}

/** Bytes as a JSON value: a string when they are UTF-8, else {"base64": "..."}. */
export function jsonBytes(bytes: Uint8Array): string {
  const text = utf8(bytes);
  return text !== undefined ? JSON.stringify(text) : JSON.stringify({ base64: Buffer.from(bytes).toString('base64') });
}
