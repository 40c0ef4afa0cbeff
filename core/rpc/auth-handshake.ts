import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, HpckvError } from '../errors.js';

/**
 * Optional per-group authentication: challenge-response over HMAC-SHA256 with a shared secret,
 * done once per connection before any request runs. The secret never travels; each side proves
 * it knows it by keying an HMAC over both sides' fresh nonces, so a recorded handshake is no use
 * on another connection (the server's nonce is new each time).
 *
 *   client -> authChallenge {}                       server -> { nonce: S }           (32 random bytes)
 *   client -> authProve { nonce: C, proof: H(client|S|C) }
 *                                                    server -> { proof: H(server|C|S) }
 *
 * H is HMAC-SHA256 keyed by the secret; `client`/`server` are fixed labels so neither proof can be
 * replayed as the other. The server refuses (HPCKV_ERR_UNAUTHENTICATED, then closes) any other
 * request before the proof, a wrong proof, a second attempt, or no proof within
 * authHandshakeTimeoutMs. The client checks the server's proof too, so it never talks to an
 * impostor that merely accepts everyone.
 */

export const AUTH_SCHEME = 'hmac-sha256';
export const AUTH_CHALLENGE_OP = 'authChallenge';
export const AUTH_PROVE_OP = 'authProve';
/** Shortest and longest shared secret, in bytes (16 bytes = 128 bits of key). */
export const AUTH_SECRET_BYTES_MIN = 16;
export const AUTH_SECRET_BYTES_MAX = 1024;
const NONCE_BYTES = 32;
const PROOF_BYTES = 32;

/** A secret of the right size, or a BAD_CONFIG naming `what`. */
export function checkAuthSecret(secret: Uint8Array, what: string): Buffer {
  if (!(secret instanceof Uint8Array) || secret.length < AUTH_SECRET_BYTES_MIN || secret.length > AUTH_SECRET_BYTES_MAX) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG,
      `${what}: an authentication secret must be ${AUTH_SECRET_BYTES_MIN}..${AUTH_SECRET_BYTES_MAX} bytes, got ${secret instanceof Uint8Array ? secret.length : typeof secret}`);
  }
  return Buffer.from(secret);
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function proofOf(secret: Uint8Array, role: 'client' | 'server', first: Uint8Array, second: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`hpckv-auth-v1 ${role}\n`).update(first).update(second).digest();
}

/** The client's proof for the server's nonce `serverNonce` and its own `clientNonce`. */
export function clientProof(secret: Uint8Array, serverNonce: Uint8Array, clientNonce: Uint8Array): Buffer {
  return proofOf(secret, 'client', serverNonce, clientNonce);
}

export function serverProof(secret: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): Buffer {
  return proofOf(secret, 'server', clientNonce, serverNonce);
}

/** Constant-time comparison of a proof against what it should be (anything not 32 bytes is wrong). */
export function proofMatches(expected: Buffer, got: unknown): boolean {
  return got instanceof Uint8Array && got.length === PROOF_BYTES && timingSafeEqual(expected, got);
}

export function isNonce(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === NONCE_BYTES;
}

export function unauthenticated(message: string): HpckvError {
  return new HpckvError(ErrorCodes.UNAUTHENTICATED, message, { retryable: false });
}

/** What a server answers to authChallenge: its nonce, or `required: false` when the group has no secret. */
export interface AuthChallengeReply {
  required: boolean;
  scheme?: string;
  nonce?: Uint8Array;
}

export interface AuthProveReply {
  proof: Uint8Array;
}

/**
 * The client side, on a fresh connection: `call` sends one request on it. Resolves once both
 * sides have proved the secret; HPCKV_ERR_UNAUTHENTICATED if the server refuses or cannot prove it.
 */
export async function authenticateToServer(call: (op: string, body: unknown) => Promise<unknown>, secret: Uint8Array,
  address: string): Promise<void> {
  const challenge = await call(AUTH_CHALLENGE_OP, {}) as AuthChallengeReply;
  if (challenge === null || typeof challenge !== 'object' || challenge.required !== true) {
    throw unauthenticated(`server ${address} does not ask for the group's secret: it is not the group this client was given a secret for`);
  }
  if (challenge.scheme !== AUTH_SCHEME || !isNonce(challenge.nonce)) {
    throw unauthenticated(`server ${address} sent a malformed challenge (scheme ${String(challenge.scheme)})`);
  }
  const clientNonce = newNonce();
  const reply = await call(AUTH_PROVE_OP, { nonce: clientNonce, proof: clientProof(secret, challenge.nonce, clientNonce) }) as AuthProveReply;
  if (reply === null || typeof reply !== 'object' || !proofMatches(serverProof(secret, clientNonce, challenge.nonce), reply.proof)) {
    throw unauthenticated(`server ${address} could not prove it knows the group's secret`);
  }
}
