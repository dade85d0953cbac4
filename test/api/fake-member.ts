/**
 * A test double of the member for client-port tests: a real Store, writes applied straight to it
 * (no Raft, no disk), and knobs for what the member would report (leadership, leader, health).
 * Lives in test/ on purpose: production always goes through src/server's Member.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, type Clock } from '../../src/common/clock.js';
import { EtcdError, ErrorCode } from '../../src/common/errors.js';
import { Store } from '../../src/store/store.js';
import type { StoreEvent, WriteCommand } from '../../src/store/types.js';
import type { ClientPortMember, MemberInfo } from '../../src/api/member-port.js';
import { createClientPortHandler } from '../../src/api/client-port.js';
import type { ClientPortOptions } from '../../src/api/options.js';
import { freePort } from '../support/ports.js';

export const selfInfo: MemberInfo = {
  id: '8e9e05c52164694d',
  name: 'node1',
  clientUrls: ['http://127.0.0.1:4001'],
  peerUrls: ['http://127.0.0.1:7001'],
};

export const otherInfo: MemberInfo = {
  id: '0a1b2c3d4e5f6071',
  name: 'node2',
  clientUrls: ['http://127.0.0.2:4001'],
  peerUrls: ['http://127.0.0.2:7001'],
};

export class FakeMember implements ClientPortMember {
  readonly store = new Store();
  readonly clock: ManualClock;
  readonly self = selfInfo;
  leading = true;
  knownLeader: MemberInfo | null = selfInfo;
  isHealthy = true;
  /** When set, write() and readBarrier() reject with this error (e.g. 300 for no quorum). */
  failWith: EtcdError | null = null;
  raftIndexValue = 7;
  barrierCalls = 0;
  readonly writes: WriteCommand[] = [];

  constructor(clock: ManualClock = new ManualClock(Date.UTC(2026, 0, 1))) {
    this.clock = clock;
  }

  async write(cmd: WriteCommand): Promise<StoreEvent> {
    this.writes.push(cmd);
    if (this.failWith !== null) throw this.failWith;
    this.raftIndexValue++;
    return this.store.apply(cmd);
  }

  async readBarrier(): Promise<void> {
    this.barrierCalls++;
    if (this.failWith !== null) throw this.failWith;
  }

  raftIndex(): number {
    return this.raftIndexValue;
  }
  raftTerm(): number {
    return 2;
  }
  clusterId(): string {
    return 'cdf818194e3a8c32';
  }
  isLeader(): boolean {
    return this.leading;
  }
  leader(): MemberInfo | null {
    return this.knownLeader;
  }
  members(): readonly MemberInfo[] {
    return this.knownLeader === otherInfo ? [otherInfo, selfInfo] : [selfInfo, otherInfo];
  }
  selfStats(): object {
    return { name: this.self.name, id: this.self.id, state: this.leading ? 'leader' : 'follower' };
  }
  leaderStats(): object {
    return { leader: this.self.id, followers: {} };
  }
  healthy(): boolean {
    return this.isHealthy;
  }
}

export interface TestServer {
  readonly member: FakeMember;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port serving the client port over a FakeMember. */
export async function startTestServer(options: Partial<ClientPortOptions> = {}, member = new FakeMember()): Promise<TestServer> {
  const server = http.createServer(createClientPortHandler(member, options));
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    member,
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Registers the member's own keys like a fresh 0.4.6 member, so the first user key gets index 3. */
export function registerLikeFreshMember(member: FakeMember): void {
  const nowMs = member.clock.nowMs();
  member.store.apply({ op: 'set', key: '/_etcd/machines/node1', value: 'etcd=http%3A%2F%2F127.0.0.1%3A4001&raft=http%3A%2F%2F127.0.0.1%3A7001', dir: false, expireAtMs: null, refresh: false, nowMs });
  member.store.apply({ op: 'set', key: '/_etcd/config', value: '{"activeSize":9,"removeDelay":1800,"syncInterval":5}', dir: false, expireAtMs: null, refresh: false, nowMs });
}

export { EtcdError, ErrorCode };
export type { Clock };
