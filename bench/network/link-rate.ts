/** The bandwidth the network bench shapes its link to: `1gbit`, `10gbit`, `<N>mbit` (or `<N>gbit`). */
export interface LinkRate {
  /** As given on the command line, e.g. `1gbit`. */
  label: string;
  bitsPerSecond: number;
}

export function parseLinkRate(text: string): LinkRate {
  const match = /^(\d+)(mbit|gbit)$/.exec(text.trim().toLowerCase());
  const amount = match === null ? NaN : Number(match[1]);
  if (match === null || !Number.isSafeInteger(amount) || amount < 1) {
    throw new RangeError(`--network takes 1gbit, 10gbit or <N>mbit, got ${text}`);
  }
  const bitsPerSecond = amount * (match[2] === 'gbit' ? 1e9 : 1e6);
  if (bitsPerSecond > 100e9) throw new RangeError(`--network ${text}: at most 100gbit`);
  return { label: `${amount}${match[2]}`, bitsPerSecond };
}

/**
 * tbf's bucket and queue for a rate. The bucket must hold what the link sends between two timer
 * ticks: measured here with a Node socket stream over the veth pair, 10gbit with a 256 KiB
 * bucket reached 6.3 Gbit/s, 1.25 MB 7.3-7.8, 5 MB (4 ms at the rate) 9.1 (the most TCP over
 * 1500-byte frames carries is 95.6% of the rate: 1448 payload bytes per 1514 counted); 1gbit
 * reaches 0.95 with any of them. So the bucket holds 4 ms at the rate, at least 64 KiB (one GSO
 * segment, so tbf need not split it). The queue holds 20 ms at the rate: enough that TCP fills
 * the link, and TCP small queues keep a single flow from filling it.
 */
export function tbfParameters(rate: LinkRate): { burstBytes: number; latencyMs: number } {
  return { burstBytes: Math.max(64 * 1024, Math.ceil((rate.bitsPerSecond / 8) * 0.004)), latencyMs: 20 };
}
