// kill -9 of one server in the middle of a bulk load from several clients; the server is started
// again from the same group file and data directory; every acknowledged write must read back, and
// every server's stats must be exact.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { ErrorCodes, isHpckvError } from '../../core/errors.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { rejoinRank } from '../support/rejoin-rank.js';

const VICTIM = 1;

test('kill -9 of a server mid-load: its keys fail typed and retryable, the others go on; restarted, every acknowledged write reads back and stats are exact', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-crash-'));
  const group = await launchLocalGroup({ servers: 3, dir });
  const clients = await Promise.all([0, 1, 2].map(() => Client.open(group.groupFile)));
  const ledger = new Map<string, string>();
  // What happened to the writes while the victim was down, and after it came back.
  const seen = { phase: 'before' as 'before' | 'down' | 'back' | 'done', victimFailures: 0, othersAckedWhileDown: 0, victimAckedAfter: 0 };
  const wrong: string[] = [];
  let acked = 0;
  let restarted: ChildProcess | undefined;
  let killing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  const writer = async (c: number): Promise<void> => {
    const client = clients[c]!;
    let state = 0x9e3779b9 ^ c;
    for (let i = 0; seen.phase !== 'done'; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const key = `c${c}-${state.toString(16)}-${i}`;
      const value = `value of ${key} `.repeat(1 + (state % 20));
      const onVictim = client.serverFor(key) === VICTIM;
      try {
        await client.put(key, value);
        ledger.set(key, value);
        acked++;
        if (seen.phase === 'down' && !onVictim) seen.othersAckedWhileDown++;
        if (seen.phase === 'back' && onVictim && ++seen.victimAckedAfter >= 300) seen.phase = 'done';
      } catch (error) {
        // Only the killed server's keys may fail, and only with a typed, retryable error.
        const typed = isHpckvError(error, ErrorCodes.CONNECTION_CLOSED) || isHpckvError(error, ErrorCodes.CONNECT_FAILED);
        if (!onVictim || !typed || !(error as { retryable: boolean }).retryable) wrong.push(`${key} on rank ${client.serverFor(key)}: ${String(error)}`);
        if (seen.phase === 'down') seen.victimFailures++;
      }
      // One writer starts the kill and one the restart (the promises are set before any await).
      if (acked >= 1500 && killing === undefined) {
        killing = (async () => {
          const victim = group.processes[VICTIM]!;
          const gone = new Promise((resolve) => victim.once('exit', resolve));
          victim.kill('SIGKILL');
          await gone;
          seen.phase = 'down';
        })();
      }
      if (seen.phase === 'down' && seen.victimFailures >= 30 && seen.othersAckedWhileDown >= 30 && restarting === undefined) {
        restarting = rejoinRank(group.groupFile, VICTIM, join(dir, 'data')).then((child) => {
          restarted = child;
          seen.phase = 'back';
        });
        await restarting;
      }
      if (wrong.length > 0) seen.phase = 'done';
    }
  };
  try {
    await Promise.all(clients.map((_, c) => writer(c)));
    t.deepEqual(wrong, [], 'no write failed other than the killed server\'s, and those with a typed retryable error');
    t.true(seen.victimFailures >= 30 && seen.othersAckedWhileDown >= 30, JSON.stringify(seen));
    t.true(seen.victimAckedAfter >= 300, 'the clients reconnected to the restarted server on their own');
    // The ledger: every acknowledged write, read back by a fresh client.
    const reader = await Client.open(group.groupFile);
    const keys = [...ledger.keys()];
    const values: Array<Buffer | undefined> = [];
    for (let b = 0; b < keys.length; b += 1000) values.push(...await reader.getMany(keys.slice(b, b + 1000)));
    const missing = values.filter((value) => value === undefined).length;
    const corrupted = keys.filter((key, i) => values[i] !== undefined && values[i]!.toString() !== ledger.get(key)).length;
    t.is(missing, 0);
    t.is(corrupted, 0);
    t.true(keys.filter((key) => reader.serverFor(key) === VICTIM).length > 500, 'the victim held acknowledged writes from before and after');
    // Every server's stats are exact: the victim's too, counted in the background after its
    // restart while the writers went on (stat waits for that count).
    const held = [0, 1, 2].map(() => ({ records: 0, keyBytes: 0, valueBytes: 0 }));
    for await (const [key, value] of reader.iterate()) {
      const stats = held[reader.serverFor(key)]!;
      stats.records++;
      stats.keyBytes += (key as Buffer).length;
      stats.valueBytes += value!.length; // a scan with values (the default)
    }
    const replies = await reader.stat();
    t.deepEqual(replies.map((reply) => reply.databases['default']), held);
    t.is(replies[VICTIM]!.startup['default']!.summary, 'missing', 'the victim had no summary after kill -9');
    await reader.close();
  } finally {
    for (const client of clients) await client.close();
    restarted?.kill('SIGTERM');
    await group.stop();
    if (restarted !== undefined && restarted.exitCode === null) await new Promise((resolve) => restarted!.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
