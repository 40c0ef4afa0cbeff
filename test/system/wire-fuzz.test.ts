// A bounded fuzz run against a live server: hostile connections one after another, a
// well-behaved client served throughout, and the server's memory measured before and after.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { OP_NAMES } from '../../core/protocol/op-table.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { rssMiB } from '../../bench/soak/process-rss.js';
import { RawConnection, frameOf, prefixOf } from '../support/raw-connection.js';
import { seededRandom } from '../unit/partition/random.js';

/**
 * Hostile connections in the run (each ends by its close, never by a timer); HPCKV_FUZZ_CONNECTIONS
 * runs a longer fuzz by hand (e.g. 20000, to see whether RSS levels off).
 */
const CONNECTIONS = Number(process.env['HPCKV_FUZZ_CONNECTIONS'] ?? 2000);
/** The server's RSS is sampled every this many connections, to show its course in the log. */
const RSS_SAMPLE_EVERY = 500;
/** Growth of the server's resident memory over the run that counts as bounded. */
const RSS_GROWTH_MAX_MIB = 64;
/** Operations a random envelope may name: not shutdown, not deleteRange, no region or procedure jobs. */
const OPS = OP_NAMES.filter((op) => op !== 'shutdown' && op !== 'deleteRange' && !op.startsWith('region') && !op.startsWith('proc'));

async function serverRssMiB(pid: number): Promise<number> {
  const mib = await rssMiB(pid);
  if (mib === undefined) throw new Error(`no RSS for server process ${pid} (this test needs /proc)`);
  return mib;
}

test('random bytes, bad prefixes, truncated frames, wrong field types and slow senders: the server stays up, serves a good client throughout, memory stays bounded', async (t) => {
  t.timeout(120_000);
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-fuzz-'));
  const group = await launchLocalGroup({ servers: 1, dir, transport: 'tcp' });
  const client = await Client.open(group.groupFile);
  const address = group.group.servers[0]!.address;
  const pid = group.processes[0]!.pid!;
  const random = seededRandom(20261202);
  const int = (n: number): number => random.below(n);
  const bytes = (n: number): Buffer => Buffer.from(random.bytes(n));
  const value = (depth: number): unknown => {
    switch (int(depth > 2 ? 6 : 9)) {
      case 0: return null;
      case 1: return int(2) === 0;
      case 2: return int(2 ** 31) - 2 ** 30;
      case 3: return random.uint32() / 4096;
      case 4: return 'default';
      case 5: return bytes(int(40));
      case 6: return Array.from({ length: int(5) }, () => value(depth + 1));
      case 7: return Object.fromEntries(['db', 'key', 'value', 'keys', 'values', 'gt', 'lt', 'limit'].filter(() => int(2) === 0).map((k) => [k, value(depth + 1)]));
      default: return 'x'.repeat(int(100));
    }
  };
  const hostile = (i: number): { what: string; bytes: Buffer; slowly?: boolean } => {
    switch (i % 6) {
      case 0: return { what: 'random bytes', bytes: bytes(1 + int(300)) };
      case 1: return { what: 'oversized length prefix', bytes: Buffer.concat([prefixOf(0x8000_0000 + int(2 ** 30)), bytes(int(50))]) };
      case 2: { const frame = frameOf([0, i, OPS[int(OPS.length)], value(0)]); return { what: 'truncated frame', bytes: frame.subarray(0, 1 + int(frame.length - 1)) }; }
      case 3: return { what: 'wrong field types', bytes: frameOf([0, i, OPS[int(OPS.length)], value(0)]) };
      case 4: return { what: 'not an envelope', bytes: frameOf(value(0)) };
      default: return { what: 'slow sender', bytes: frameOf([0, i, 'get', { db: 'default', key: bytes(1 + int(20)) }]), slowly: true };
    }
  };
  try {
    await client.put('sentinel', 'still here');
    for (let i = 0; i < 20; i++) await client.get('sentinel'); // warm the server up before measuring
    const before = await serverRssMiB(pid);
    // The good client reads and writes for as long as the fuzzing runs.
    let fuzzing = true;
    let served = 0;
    const good = (async () => {
      for (let i = 0; fuzzing; i++) {
        await client.put(`good-${i}`, `value-${i}`);
        if ((await client.get(`good-${i}`))?.toString() !== `value-${i}`) throw new Error(`good-${i} read back wrong`);
        served++;
      }
    })();
    const kinds = new Map<string, number>();
    const course: string[] = [before.toFixed(0)];
    for (let i = 0; i < CONNECTIONS; i++) {
      const attack = hostile(i);
      const connection = await RawConnection.open(address);
      if (attack.slowly === true) await connection.writeSlowly(attack.bytes);
      else await connection.write(attack.bytes);
      connection.end(); // end of stream: the server answers what it can and closes
      await connection.closed;
      kinds.set(attack.what, (kinds.get(attack.what) ?? 0) + 1);
      if ((i + 1) % RSS_SAMPLE_EVERY === 0) course.push((await serverRssMiB(pid)).toFixed(0));
    }
    fuzzing = false;
    await good;
    const after = await serverRssMiB(pid);
    t.is([...kinds.values()].reduce((a, b) => a + b, 0), CONNECTIONS);
    t.true(served > 0, 'the good client was served during the run');
    t.is((await client.get('sentinel'))?.toString(), 'still here');
    t.is(group.processes[0]!.exitCode, null, 'the server is still running');
    t.true(after - before < RSS_GROWTH_MAX_MIB, `server RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
    t.log(`${CONNECTIONS} hostile connections (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}); good client served ${served} put+get pairs; server RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MiB`);
    t.log(`server RSS every ${RSS_SAMPLE_EVERY} connections (MiB): ${course.join(' ')}`);
  } finally {
    await client.close();
    await group.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
