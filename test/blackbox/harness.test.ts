/**
 * The fault harness end to end on a 3-member cluster whose members reach each other only through
 * the link proxies: an isolated leader is replaced and cannot commit, a healed one catches up, a
 * one-way cut stops exactly one direction, SIGSTOP/SIGCONT and kill -9/restart work, and stop()
 * leaves no process behind. Needs a build (`npm run build`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep } from '../support/cluster.js';
import { startBlackboxCluster, type BlackboxCluster } from './harness.js';
import { isAlive } from '../support/process-run.js';

const SEED = Number(process.env.HARNESS_SEED ?? 7);

type Answer = { status: number; body: unknown } | { status: 'timeout' | 'error'; body: string };

async function put(baseUrl: string, key: string, value: string, timeoutMs = 2000): Promise<Answer> {
  try {
    const res = await fetch(`${baseUrl}/v2/keys${key}`, {
      method: 'PUT',
      body: new URLSearchParams({ value }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? '' : (JSON.parse(text) as unknown) };
  } catch (error) {
    return { status: error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'error', body: String(error) };
  }
}

async function localValue(baseUrl: string, key: string): Promise<string | null> {
  const res = await fetch(`${baseUrl}/v2/keys${key}`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { node?: { value?: string } };
  return body.node?.value ?? null;
}

/** Polls until every member's dump of `prefix` is the same and passes `check`. */
async function convergence(cluster: BlackboxCluster, prefix: string, check: (json: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const dumps = await cluster.dumpKeys(prefix);
    const views = dumps.map((d) => JSON.stringify(d.nodes));
    last = dumps.map((d) => `${d.member}: ${JSON.stringify(d.nodes)} ${d.error ?? ''}`).join('\n');
    if (views.every((v) => v === views[0]) && views[0] !== undefined && check(views[0])) return views[0];
    await sleep(100);
  }
  throw new Error(`members did not converge on ${prefix}:\n${last}`);
}


describe('black-box harness (3 members, a proxy per directed link)', () => {
  let cluster: BlackboxCluster;

  before(async () => {
    console.log(`harness seed ${SEED} (HARNESS_SEED to replay)`);
    cluster = await startBlackboxCluster({ size: 3, seed: SEED });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('members dial each other through their proxies', async () => {
    assert.deepEqual(cluster.names(), ['n1', 'n2', 'n3']);
    assert.equal(new Set(cluster.members.map((m) => m.id)).size, 3);
    const leader = await cluster.waitForLeader();
    // The leader and each follower talk both ways, over the links' proxies (followers dial each
    // other only when they have something to say, e.g. in an election).
    const followers = cluster.names().filter((n) => n !== leader);
    await waitFor('a connection on every leader link', () =>
      followers.every((f) => cluster.net.link(leader, f).connectionCount() >= 1 && cluster.net.link(f, leader).connectionCount() >= 1),
    );
  });

  it('a write commits; an isolated leader is replaced and cannot commit; healed, it catches up', async () => {
    const old = await cluster.waitForLeader();
    const first = await put(cluster.member(old).clientUrl, '/h/x', 'one');
    assert.equal(first.status, 201);
    assert.deepEqual(Object.keys(first.body as object), ['action', 'node']);
    assert.equal((first.body as { action: string }).action, 'set');
    await convergence(cluster, '/h', (v) => v.includes('"value":"one"'));

    cluster.net.isolate(old);
    const lost = await put(cluster.member(old).clientUrl, '/h/x', 'lost', 2000);
    assert.ok(lost.status === 'timeout' || (typeof lost.status === 'number' && lost.status >= 300), `isolated leader answered ${JSON.stringify(lost)}`);
    const fresh = await cluster.waitForLeader(10_000, (name) => name !== old);
    assert.notEqual(fresh, old);
    const second = await put(cluster.member(fresh).clientUrl, '/h/x', 'two');
    assert.equal(second.status, 200, JSON.stringify(second));
    assert.equal(await localValue(cluster.member(old).clientUrl, '/h/x'), 'one', 'the isolated member saw a write it cannot have received');

    cluster.net.heal();
    const agreed = await convergence(cluster, '/h', (v) => v.includes('"value":"two"'));
    assert.ok(!agreed.includes('lost'), `an uncommitted write survived: ${agreed}`);
    await cluster.waitForLeader(10_000);
  });

  it('a one-way cut stops exactly that direction', async () => {
    const leader = await cluster.waitForLeader();
    const [deaf, other] = cluster.names().filter((n) => n !== leader);
    assert.ok(deaf !== undefined && other !== undefined);
    await convergence(cluster, '/h', () => true);

    // leader -> deaf cut: deaf hears nothing from the leader, the leader still commits with `other`.
    cluster.net.cutOneWay(leader, deaf);
    assert.equal(cluster.net.link(leader, deaf).mode.kind, 'blackhole');
    assert.equal(cluster.net.link(deaf, leader).mode.kind, 'pass');
    const cutWrite = await put(cluster.member(leader).clientUrl, '/h/x', 'three');
    assert.equal(cutWrite.status, 200, JSON.stringify(cutWrite));
    await waitForValue(cluster.member(other).clientUrl, '/h/x', 'three');
    await sleep(300);
    assert.equal(await localValue(cluster.member(deaf).clientUrl, '/h/x'), 'two', `${deaf} got a write over a cut link`);

    cluster.net.heal();
    await convergence(cluster, '/h', (v) => v.includes('"value":"three"'));

    // deaf -> leader cut: the leader's messages still reach it, so it still applies the writes.
    cluster.net.cutOneWay(deaf, leader);
    const reverseWrite = await put(cluster.member(leader).clientUrl, '/h/x', 'four');
    assert.equal(reverseWrite.status, 200, JSON.stringify(reverseWrite));
    await waitForValue(cluster.member(deaf).clientUrl, '/h/x', 'four');
    cluster.net.heal();
  });

  it('SIGSTOP/SIGCONT and kill -9/restart of a member', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.names().find((n) => n !== leader) ?? '';
    cluster.pause(follower);
    assert.equal(cluster.member(follower).isPaused(), true);
    assert.equal((await put(cluster.member(leader).clientUrl, '/h/y', 'during-pause')).status, 201);
    cluster.resume(follower);
    await waitForValue(cluster.member(follower).clientUrl, '/h/y', 'during-pause');

    const pidBefore = cluster.member(follower).pid;
    await cluster.kill9(follower);
    assert.equal(isAlive(pidBefore), false);
    assert.equal(cluster.member(follower).isRunning(), false);
    assert.equal((await put(cluster.member(leader).clientUrl, '/h/y', 'while-dead')).status, 200);
    await cluster.restart(follower);
    assert.notEqual(cluster.member(follower).pid, pidBefore);
    await waitForValue(cluster.member(follower).clientUrl, '/h/y', 'while-dead');
    assert.match(cluster.logs(follower), /\S/);
  });

  it('kill-all then restart-all keeps every acknowledged write', async () => {
    const leader = await cluster.waitForLeader();
    assert.equal((await put(cluster.member(leader).clientUrl, '/h/z', 'before-kill-all')).status, 201);
    await cluster.killAll();
    assert.ok(cluster.members.every((m) => !m.isRunning()));
    await cluster.restartAll();
    await cluster.waitForLeader(15_000);
    await convergence(cluster, '/h', (v) => v.includes('"value":"before-kill-all"'));
  });

  it('stop() leaves no process and no proxy behind', async () => {
    const pids = cluster.members.map((m) => m.pid);
    assert.ok(pids.every((pid) => pid > 0 && isAlive(pid)));
    await cluster.stop();
    assert.deepEqual(pids.filter(isAlive), []);
    for (const from of cluster.names()) {
      for (const to of cluster.names()) {
        if (from !== to) assert.equal(cluster.net.link(from, to).connectionCount(), 0);
      }
    }
  });
});

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function waitForValue(baseUrl: string, key: string, value: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string | null = null;
  while (Date.now() < deadline) {
    seen = await localValue(baseUrl, key).catch(() => null);
    if (seen === value) return;
    await sleep(50);
  }
  throw new Error(`${baseUrl}${key}: ${String(seen)}, not ${value}, after ${timeoutMs} ms`);
}
