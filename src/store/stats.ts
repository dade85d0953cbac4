/** Store counters (spec §8), kept in the order /v2/stats/store prints them. */
import type { StoreStatsJson } from './types.js';

export type WriteCounters = Omit<StoreStatsJson, 'watchers'>;

export function zeroCounters(): WriteCounters {
  return {
    getsSuccess: 0,
    getsFail: 0,
    setsSuccess: 0,
    setsFail: 0,
    deleteSuccess: 0,
    deleteFail: 0,
    updateSuccess: 0,
    updateFail: 0,
    createSuccess: 0,
    createFail: 0,
    compareAndSwapSuccess: 0,
    compareAndSwapFail: 0,
    compareAndDeleteSuccess: 0,
    compareAndDeleteFail: 0,
    expireCount: 0,
  };
}

export type CounterName = keyof WriteCounters;

/** The success/fail counter pair of each write operation. */
export const opCounters = {
  set: { success: 'setsSuccess', fail: 'setsFail' },
  create: { success: 'createSuccess', fail: 'createFail' },
  update: { success: 'updateSuccess', fail: 'updateFail' },
  compareAndSwap: { success: 'compareAndSwapSuccess', fail: 'compareAndSwapFail' },
  delete: { success: 'deleteSuccess', fail: 'deleteFail' },
  compareAndDelete: { success: 'compareAndDeleteSuccess', fail: 'compareAndDeleteFail' },
} as const satisfies Record<string, { success: CounterName; fail: CounterName }>;
