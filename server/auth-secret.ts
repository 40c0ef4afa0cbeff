import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import { checkAuthSecret } from '../core/rpc/auth-handshake.js';

/**
 * The shared secret of a group, as servers are given it: a file (never a command-line argument
 * or an environment variable, which other users of the machine can see in ps or /proc).
 */

/** The file's bytes, less a trailing newline (so `openssl rand -base64 32 > F` works as is). */
export async function readAuthSecretFile(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `authentication secret file ${path} cannot be read (${String((cause as NodeJS.ErrnoException).code)})`,
      { cause, details: { path } });
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return checkAuthSecret(bytes.subarray(0, end), `authentication secret file ${path}`);
}

/** Writes a fresh random secret (32 bytes, as base64 text) readable by its owner only. */
export async function writeNewAuthSecretFile(path: string): Promise<void> {
  await writeFile(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'w' });
}

/** What ranks compare to agree they were given the same secret, without sending it. */
export function authSecretDigest(secret: Uint8Array | undefined): string {
  return secret === undefined ? 'none' : createHash('sha256').update('hpckv-auth-digest\n').update(secret).digest('hex');
}
