import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import { freshKeys, type Scenario } from './request-shapes.js';
import { preloadGets, runRound, storedKeyCount, type EndToEndCounts } from './end-to-end.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';

/**
 * The longest a profiled round may go without finishing a step (start, round, shutdown, exit) in
 * ms. A round takes 1-2 s here even on 2 loaded cores. Twice in CI the test was killed while
 * profiling put-1 with no step named; the second time this bound never fired (the run was slow,
 * not stuck), so it stays as a diagnosis: a real stall fails the run naming its step.
 */
const PROFILE_STEP_MS_MAX = 30_000;

/** Sampling interval of both profiles, in µs: finer than V8's default 1 ms, for enough samples in a short run. */
const SAMPLING_INTERVAL_US = 250;

const HPCKV_BIN = fileURLToPath(new URL('../../bin/hpckv.js', import.meta.url));

export interface ScenarioProfiles {
  client: ProfileSummary;
  server: ProfileSummary;
  /** The .cpuprofile files (open them in Chrome DevTools or speedscope). */
  files: { client: string; server: string };
}

/** A profiled round that made no progress for PROFILE_STEP_MS_MAX; names the step and whether the server still ran. */
class ProfileStall extends Error {}

/** `work`, or a ProfileStall naming `step` once it has run PROFILE_STEP_MS_MAX ms. */
async function step<T>(name: string, server: ChildProcess, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new ProfileStall(`no progress for ${PROFILE_STEP_MS_MAX} ms at "${name}" ` +
      `(server ${server.exitCode === null && server.signalCode === null ? 'running' : 'gone'})`)), PROFILE_STEP_MS_MAX);
  });
  try {
    return await Promise.race([work, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One round of a scenario with both sides profiled: a server started on its own under
 * `--cpu-prof` (its profile is written when it exits), and this process profiled in-process
 * through the inspector. The server's shares count only its samples while the client's profile
 * ran (both use the same monotonic clock), so start-up and loading stay out. A step that makes no
 * progress for PROFILE_STEP_MS_MAX fails the run naming the step.
 */
export async function profileScenario(scenario: Scenario, counts: EndToEndCounts, profileDir: string): Promise<ScenarioProfiles> {
  const outDir = resolve(profileDir, scenario.id);
  await mkdir(outDir, { recursive: true });
  const groupDir = await mkdtemp(join(tmpdir(), 'hpckv-stage-profile-'));
  const server = spawn(process.execPath, ['--no-node-snapshot', '--cpu-prof', '--cpu-prof-dir', outDir,
    '--cpu-prof-interval', String(SAMPLING_INTERVAL_US), HPCKV_BIN,
    'serve', '--group-dir', groupDir, '--data', join(groupDir, 'data'), '--transport', 'unix'], {
    env: { ...process.env, HPCKV_RANK: '0', HPCKV_SIZE: '1', HPCKV_LAUNCH_ID: `stages-${process.pid}-${randomBytes(4).toString('hex')}` },
    // The server's "serving" line goes to stderr: stdout carries the report.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  try {
    await step('server start', server, ready(server));
    const client = await step('client open', server, Client.open(join(groupDir, 'group.json')));
    const storedKeys = freshKeys(1, scenario.kind === 'get' ? storedKeyCount(counts) : 0)[0]!;
    await step('preload', server, preloadGets(client, storedKeys, scenario.valueBytes));
    const session = new Session();
    session.connect();
    let profile: Profiler.Profile;
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await session.post('Profiler.start');
      await step('round', server, runRound(client, server.pid!, scenario, counts, storedKeys));
      ({ profile } = await step('client profile', server, session.post('Profiler.stop')));
    } finally {
      session.disconnect();
    }
    await step('shutdown', server, client.shutdownServers());
    await client.close();
    await step('server exit', server, exited);
    const clientFile = join(outDir, 'client.cpuprofile');
    await writeFile(clientFile, JSON.stringify(profile));
    const serverFile = await serverProfileFile(outDir, server.pid!);
    const serverProfile = JSON.parse(await readFile(serverFile, 'utf8')) as Profiler.Profile;
    return {
      client: summariseProfile(profile),
      server: summariseProfile(serverProfile, { start: profile.startTime, end: profile.endTime }),
      files: { client: clientFile, server: serverFile },
    };
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      // A stalled server may not take SIGTERM either.
      server.kill('SIGTERM');
      await step('server stop', server, exited).catch(() => { server.kill('SIGKILL'); return exited; });
    }
    await rm(groupDir, { recursive: true, force: true });
  }
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((done, fail) => {
    child.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready') done();
    });
    child.once('exit', (code) => fail(new Error(`profiled server exited (code ${code}) before it was ready`)));
  });
}

/** The profile --cpu-prof wrote for process `pid` (named CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
async function serverProfileFile(dir: string, pid: number): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.startsWith('CPU.') && name.includes(`.${pid}.`) && name.endsWith('.cpuprofile'));
  if (names.length === 0) throw new Error(`no CPU profile of server process ${pid} in ${dir}`);
  return join(dir, names.sort()[names.length - 1]!);
}
