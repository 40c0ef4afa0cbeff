// How long a local group keeps the script that launched it alive: not past the script's end.
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { readGroupFile } from '../../core/group-file.js';
import { resolveLimits } from '../../core/limits.js';
import { RpcClient } from '../../core/rpc/rpc-client.js';
import { launchLocalGroup } from '../../server/launcher.js';

const FIXTURE = fileURLToPath(new URL('../support/fixtures/launch-and-leave.js', import.meta.url));

/** A script that hangs is killed after this, and then fails the test on its exit code. */
const SCRIPT_MS_MAX = 30_000;

for (const mode of ['forgotten', 'stop'] as const) {
  const title = mode === 'forgotten'
    ? 'a script that ends without group.stop() exits, and its servers drain and close their stores as on stop()'
    : 'a script that awaits group.stop() runs on after it, with its servers stopped';
  test(title, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-lifetime-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const script = spawn(process.execPath, ['--no-node-snapshot', FIXTURE, dir, ...(mode === 'stop' ? ['stop'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    const killer = setTimeout(() => script.kill('SIGKILL'), SCRIPT_MS_MAX);
    let stderr = '';
    script.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = once(script, 'close') as Promise<[number | null]>;
    const lines = createInterface({ input: script.stdout });
    const [first] = await once(lines, 'line') as [string];
    t.regex(first, /^group file: /, stderr);
    // Watch the servers from here: a connection each, which closes when its server stops.
    const group = await readGroupFile(first.slice('group file: '.length));
    const connections = await Promise.all(group.servers.map((server) => RpcClient.connect(server.address, resolveLimits())));
    const closed = connections.map((c) => new Promise<string>((resolve) => c.onClose((error) => resolve(error.code))));
    t.deepEqual(await Promise.all(connections.map((c) => c.call('hello', {}).then((h) => (h as { rank: number }).rank))), [0, 1]);
    const rest: string[] = [];
    lines.on('line', (line) => rest.push(line));
    script.stdin.end('go\n');
    const [code] = await exited;
    clearTimeout(killer);
    t.is(code, 0, `the script did not end by itself: ${stderr}`);
    t.deepEqual(rest, mode === 'stop' ? ['stopped'] : []);
    t.deepEqual(await Promise.all(closed), ['HPCKV_ERR_CONNECTION_CLOSED', 'HPCKV_ERR_CONNECTION_CLOSED']);
    // The stores were closed cleanly: started again, each loads its summary instead of counting.
    const again = await launchLocalGroup({ servers: 2, dir });
    t.teardown(() => again.stop());
    const client = await Client.open(again.groupFile);
    t.is((await client.get('kept'))?.toString(), 'value');
    t.deepEqual((await client.stat()).map((stat) => stat.startup['default']!.summary), ['loaded', 'loaded']);
    await client.close();
  });
}
