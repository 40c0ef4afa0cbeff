// The launcher as a user lives in it: a server killed under `hpckv launch` is reported with how to
// start it again; stat answers for the servers that are up and names the one that is down, exec
// names it in one line; Ctrl-C says which ranks it stopped and that a rank restarted by hand still
// runs. A launch on a data directory made for another layout rejects with the server's own code.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.js';
import { ErrorCodes, type HpckvError } from '../../core/errors.js';
import { readGroupFile } from '../../core/group-file.js';
import { launchLocalGroup } from '../../server/launcher.js';
import { launchedGroupFile, runCli as run, startCli } from '../support/cli-process.js';
import { rejoinRank } from '../support/rejoin-rank.js';

test('a server killed under hpckv launch is reported; stat and exec name it; Ctrl-C stops only the ranks the launcher started', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-cli-launcher-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const launch = startCli(['launch', '--servers', '2', '--dir', dir]);
  const groupFile = await launchedGroupFile(launch);
  const group = await readGroupFile(groupFile);
  t.is((await run(['put', '--group', groupFile, 'k', 'v'])).code, 0);
  process.kill(group.servers[1]!.pid!, 'SIGKILL');
  const rejoin = `hpckv serve --rejoin ${groupFile} --rank 1 --data ${join(dir, 'data')}`;
  t.is(await launch.errorLine(/server rank 1/), `hpckv: server rank 1 (pid ${group.servers[1]!.pid}) was killed by SIGKILL; the other servers go ` +
    `on, but its keys are unavailable until it is started again: ${rejoin}`);

  // The library answers per rank; the CLI prints the ranks that are up and a line for the one that is down.
  const client = await Client.open(groupFile);
  const answers = await client.statEach();
  await client.close();
  t.deepEqual(answers.map((answer) => [answer.rank, answer.stat?.rank, answer.error?.code]), [[0, 0, undefined], [1, undefined, ErrorCodes.CONNECT_FAILED]]);
  const stat = await run(['stat', '--group', groupFile]);
  t.is(stat.code, 1);
  t.deepEqual((JSON.parse(stat.stdout) as Array<{ rank: number }>).map((s) => s.rank), [0]);
  const hint = `start it again with: hpckv serve --rejoin ${groupFile} --rank 1 --data DATA_DIR`;
  const [downLine, hintLine, ...rest] = stat.stderr.split('\n');
  t.regex(downLine!, /^hpckv: server rank 1 is down: HPCKV_ERR_CONNECT_FAILED: cannot connect to unix:\/\/.*server-1\.sock/);
  t.is(hintLine, `hpckv: ${hint}`);
  t.deepEqual(rest, ['']);

  const filter = join(dir, 'all.js');
  await writeFile(filter, '(key, value) => true\n');
  const exec = await run(['exec', '--group', groupFile, '--filter', filter]);
  t.is(exec.code, 1);
  t.is(exec.stdout, '');
  t.is(exec.stderr.split('\n').length, 2, 'one line');
  t.true(exec.stderr.startsWith('hpckv: HPCKV_ERR_CONNECT_FAILED: server rank 1 is down (cannot connect to unix://'), exec.stderr);
  t.true(exec.stderr.endsWith(`); ${hint}\n`), exec.stderr);

  // Started again by hand: not the launcher's process, so Ctrl-C leaves it running and says so.
  const rejoined = await rejoinRank(groupFile, 1, join(dir, 'data'));
  t.teardown(() => { rejoined.kill('SIGKILL'); });
  t.is((await run(['get', '--group', groupFile, 'k'])).stdout, 'v\n');
  launch.child.kill('SIGINT');
  const ended = await launch.done;
  t.is(ended.code, 0);
  const said = ended.stdout.split('\n').filter((line) => !line.startsWith('hpckv '));
  t.deepEqual(said, ['Press Ctrl-C to stop.', 'stopped server rank 0',
    `server rank 1 at ${group.servers[1]!.address} is still running: this launcher did not start it (it was started again after its first ` +
    'process exited), so it did not stop it', '']);
  const stillThere = await run(['stat', '--group', groupFile]);
  t.deepEqual((JSON.parse(stillThere.stdout) as Array<{ rank: number }>).map((s) => s.rank), [1]);
  const stoppedRejoined = new Promise((resolve) => rejoined.once('exit', resolve));
  rejoined.kill('SIGTERM');
  await stoppedRejoined;
});

test('launchLocalGroup on a data directory made for another layout rejects with the server\'s own code, HPCKV_ERR_GROUP_FILE', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-launch-layout-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = await launchLocalGroup({ servers: 2, dir, keyType: 'int64' });
  await first.stop();
  const error = await t.throwsAsync<HpckvError>(launchLocalGroup({ servers: 2, dir, keyType: 'bytes' }));
  t.is(error?.code, ErrorCodes.GROUP_FILE);
  t.regex(error!.message, /^server rank \d: data directory .*rank-\d was created with keyType="int64", this server was started with keyType="bytes"/);
  t.true(error!.details['rank'] === 0 || error!.details['rank'] === 1);
  t.false(error!.retryable);
});
