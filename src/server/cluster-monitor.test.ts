/**
 * The leader's membership monitor against a fake cluster and a manual clock: leader only, one
 * removal in flight, random follower when over activeSize, the silent follower beyond
 * removeDelay (never-heard counted from the start of leadership), failures logged and retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../common/clock.js';
import { SeededPrng } from '../common/prng.js';
import type { ClusterConfigValues } from './peer-admin.js';
import { chooseRemoval, ClusterMonitor, startClusterMonitor, type ClusterMonitorOptions, type MonitoredCluster } from './cluster-monitor.js';

interface PendingRemoval {
  readonly id: string;
  resolve(): void;
  reject(error: Error): void;
}

class FakeCluster implements MonitoredCluster {
  leader = true;
  config: ClusterConfigValues = { activeSize: 9, removeDelay: 1800, syncInterval: 5 };
  members: Array<{ id: string; name: string }>;
  /** Wall time (ManualClock.nowMs) of the last contact; absent = never since leadership. */
  lastContact = new Map<string, number>();
  removals: PendingRemoval[] = [];

  constructor(
    count: number,
    private readonly clock: ManualClock,
  ) {
    this.members = Array.from({ length: count }, (_, i) => ({ id: `000000000000000${i + 1}`, name: `node${i + 1}` }));
  }

  isLeader(): boolean {
    return this.leader;
  }
  selfId(): string {
    return '0000000000000001';
  }
  clusterConfig(): ClusterConfigValues {
    return this.config;
  }
  voters(): ReadonlyArray<{ id: string; name: string }> {
    return this.members;
  }
  sinceLastContactMs(id: string): number | null {
    const at = this.lastContact.get(id);
    return at === undefined ? null : this.clock.nowMs() - at;
  }
  heardFromAll(): void {
    for (const m of this.members) this.lastContact.set(m.id, this.clock.nowMs());
  }
  removeMember(id: string, reason: 'auto'): Promise<void> {
    assert.equal(reason, 'auto');
    return new Promise((resolve, reject) => {
      this.removals.push({
        id,
        resolve: () => {
          this.members = this.members.filter((m) => m.id !== id);
          resolve();
        },
        reject,
      });
    });
  }
}

function setup(count: number, seed = 1): { clock: ManualClock; cluster: FakeCluster; monitor: ClusterMonitor; logs: string[]; options: ClusterMonitorOptions } {
  const clock = new ManualClock();
  const cluster = new FakeCluster(count, clock);
  const logs: string[] = [];
  const leaderSince = clock.nowMs();
  const options: ClusterMonitorOptions = { intervalMs: 1000, prng: new SeededPrng(seed), log: (l) => logs.push(l), leaderSinceMs: () => leaderSince, nowMs: () => clock.nowMs() };
  return { clock, cluster, monitor: new ClusterMonitor(cluster, options), logs, options };
}

/** Lets the removal's settlement callbacks run. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

test('monitor: a follower removes nobody, however oversized or silent the cluster', () => {
  const { cluster, monitor, clock } = setup(5);
  cluster.config = { activeSize: 3, removeDelay: 2, syncInterval: 5 };
  cluster.leader = false;
  clock.advance(3_600_000);
  monitor.check();
  assert.equal(cluster.removals.length, 0);
});

test('monitor: over activeSize → one random follower at a time (never the leader), until the size fits', async () => {
  const seed = 42;
  console.log(`seed ${seed}`);
  const { cluster, monitor, logs } = setup(5, seed);
  cluster.heardFromAll();
  cluster.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
  monitor.check();
  monitor.check(); // in flight: no second removal
  assert.equal(cluster.removals.length, 1);
  assert.equal(monitor.removing, true);
  const first = cluster.removals[0];
  assert.ok(first);
  assert.notEqual(first.id, cluster.selfId());
  const firstName = cluster.members.find((m) => m.id === first.id)?.name;
  assert.deepEqual(logs, [`cluster monitor: removing ${firstName} (${first.id}): 5 voters exceed activeSize 3`]);
  first.resolve();
  await settle();
  assert.equal(monitor.removing, false);
  monitor.check();
  assert.equal(cluster.removals.length, 2);
  const second = cluster.removals[1];
  assert.ok(second);
  assert.notEqual(second.id, first.id);
  assert.notEqual(second.id, cluster.selfId());
  second.resolve();
  await settle();
  monitor.check();
  assert.equal(cluster.removals.length, 2, 'the cluster fits: 3 voters, activeSize 3');
  assert.equal(cluster.members.length, 3);
  assert.ok(cluster.members.some((m) => m.id === cluster.selfId()));
});

test('monitor: the random choice replays from the seed and spreads over the followers', () => {
  const picks = (seed: number): string[] => {
    const { cluster, options } = setup(5, seed);
    cluster.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
    return Array.from({ length: 200 }, () => chooseRemoval(cluster, options)?.id ?? 'none');
  };
  const run = picks(7);
  assert.deepEqual(picks(7), run);
  assert.deepEqual([...new Set(run)].sort(), ['0000000000000002', '0000000000000003', '0000000000000004', '0000000000000005']);
});

test('monitor: a follower silent for more than removeDelay is removed; exactly removeDelay is not', () => {
  const { cluster, monitor, clock, logs } = setup(3);
  cluster.config = { activeSize: 9, removeDelay: 1800, syncInterval: 5 };
  cluster.heardFromAll();
  clock.advance(1_800_000);
  cluster.lastContact.set('0000000000000002', clock.nowMs()); // node2 keeps talking; node3 went quiet
  monitor.check();
  assert.equal(cluster.removals.length, 0);
  clock.advance(1);
  monitor.check();
  assert.deepEqual(cluster.removals.map((r) => r.id), ['0000000000000003']);
  assert.deepEqual(logs, ['cluster monitor: removing node3 (0000000000000003): not heard from for 1800 s (removeDelay 1800 s)']);
});

test('monitor: of several silent followers the longest silent goes first', () => {
  const { cluster, monitor, clock } = setup(4);
  cluster.config = { activeSize: 9, removeDelay: 2, syncInterval: 5 };
  cluster.heardFromAll();
  cluster.lastContact.set('0000000000000003', clock.nowMs() - 10_000);
  cluster.lastContact.set('0000000000000004', clock.nowMs() - 5_000);
  cluster.lastContact.set('0000000000000001', clock.nowMs() - 99_000); // the leader itself is never a candidate
  monitor.check();
  assert.deepEqual(cluster.removals.map((r) => r.id), ['0000000000000003']);
});

test('monitor: a follower never heard from counts from the start of leadership, not from zero', () => {
  const { cluster, monitor, clock } = setup(3);
  cluster.config = { activeSize: 9, removeDelay: 2, syncInterval: 5 };
  monitor.check();
  assert.equal(cluster.removals.length, 0, 'a brand-new leader evicts nobody');
  clock.advance(2000);
  cluster.lastContact.set('0000000000000002', clock.nowMs());
  monitor.check();
  assert.equal(cluster.removals.length, 0, 'exactly removeDelay since leadership');
  clock.advance(1);
  monitor.check();
  assert.deepEqual(cluster.removals.map((r) => r.id), ['0000000000000003']);
});

test('monitor: a member added long after the leadership began counts from when the monitor first saw it', () => {
  const { cluster, monitor, clock } = setup(3);
  cluster.config = { activeSize: 9, removeDelay: 2, syncInterval: 5 };
  clock.advance(10_000);
  cluster.heardFromAll();
  cluster.members = [...cluster.members, { id: '0000000000000004', name: 'node4' }];
  monitor.check();
  assert.equal(cluster.removals.length, 0, 'a member added a moment ago is new, not silent for the whole leadership');
  clock.advance(2000);
  cluster.heardFromAll();
  cluster.lastContact.delete('0000000000000004');
  monitor.check();
  assert.equal(cluster.removals.length, 0, 'exactly removeDelay since it was first seen');
  clock.advance(1);
  cluster.heardFromAll();
  cluster.lastContact.delete('0000000000000004');
  monitor.check();
  assert.deepEqual(cluster.removals.map((r) => r.id), ['0000000000000004']);
});

test('monitor: a failed removal is logged, and the next check tries again', async () => {
  const { cluster, monitor, logs } = setup(4);
  cluster.heardFromAll();
  cluster.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
  monitor.check();
  const first = cluster.removals[0];
  assert.ok(first);
  first.reject(new Error('no quorum'));
  await settle();
  const name = cluster.members.find((m) => m.id === first.id)?.name;
  assert.equal(logs[1], `cluster monitor: removing ${name} (${first.id}) failed: no quorum`);
  assert.equal(monitor.removing, false);
  monitor.check();
  assert.equal(cluster.removals.length, 2);
});

test('monitor: the timer checks every interval on the leader and stop() ends it', async () => {
  const { cluster, options } = setup(4);
  cluster.heardFromAll();
  cluster.config = { activeSize: 3, removeDelay: 1800, syncInterval: 5 };
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const handle = startClusterMonitor(cluster, { ...options, intervalMs: 5 });
  const deadline = performance.now() + 2000;
  while (cluster.removals.length === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(cluster.removals.length, 1);
  handle.stop();
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  cluster.removals[0]?.resolve();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(cluster.removals.length, 1, 'no check after stop');
});
