/**
 * Our member and a real etcd 3.4 side by side, so one client session can run against both and
 * etcd 3.4's answer serves as the reference for ours.
 */
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { startRealEtcd, type RealEtcd } from '../support/real-etcd.js';

export interface Target {
  /** `ours` or `etcd 3.4`, for failure messages. */
  readonly label: string;
  readonly clientUrl: string;
}

export interface ServerPair {
  readonly ours: EtcdProcess;
  readonly real: RealEtcd;
  readonly targets: readonly Target[];
  stop(): Promise<void>;
}

export async function startPair(name: string): Promise<ServerPair> {
  const [ours, real] = await Promise.all([startEtcd({ name }), startRealEtcd()]);
  return {
    ours,
    real,
    targets: [
      { label: 'ours', clientUrl: ours.clientUrl },
      { label: 'etcd 3.4', clientUrl: real.clientUrl },
    ],
    stop: async () => {
      await Promise.all([ours.remove(), real.stop()]);
    },
  };
}

/** Runs `check` against every target at once; a failure names the target it happened on. */
export async function onEach(targets: readonly Target[], check: (target: Target) => Promise<void>): Promise<void> {
  await Promise.all(
    targets.map(async (target) => {
      try {
        await check(target);
      } catch (error) {
        if (error instanceof Error) error.message = `[${target.label}] ${error.message}`;
        throw error;
      }
    }),
  );
}
