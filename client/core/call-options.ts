import type { RequestOptions } from './options.js';

/**
 * The part of a call's options that applies to each request it sends on (its timeout and abort
 * signal), without its database: a call that reads or writes other databases than the one it was
 * named for (an index's catalog, entries and records) passes these and names each database itself.
 */
export function callOptions(options: RequestOptions): RequestOptions {
  const out: RequestOptions = {};
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  if (options.signal !== undefined) out.signal = options.signal;
  return out;
}
