/** Command builders shared by the store's tests (not used by product code). */
import { EtcdError } from '../common/errors.js';
import type {
  CompareAndDeleteCommand,
  CompareAndSwapCommand,
  CreateCommand,
  DeleteCommand,
  SetCommand,
  StoreEvent,
  UpdateCommand,
} from './types.js';

/** 2026-01-01T00:00:00Z: every test's "now". */
export const T0 = 1_767_225_600_000;

export function setCmd(key: string, value: string, extra: Partial<SetCommand> = {}): SetCommand {
  return { op: 'set', key, value, dir: false, expireAtMs: null, refresh: false, nowMs: T0, ...extra };
}

export function createCmd(key: string, value: string, extra: Partial<CreateCommand> = {}): CreateCommand {
  return { op: 'create', key, value, dir: false, expireAtMs: null, inOrder: false, nowMs: T0, ...extra };
}

export function updateCmd(key: string, value: string | null, extra: Partial<UpdateCommand> = {}): UpdateCommand {
  return { op: 'update', key, value, expireAtMs: null, refresh: false, nowMs: T0, ...extra };
}

export function casCmd(key: string, value: string | null, prevValue: string | null, prevIndex: number, extra: Partial<CompareAndSwapCommand> = {}): CompareAndSwapCommand {
  return { op: 'compareAndSwap', key, value, prevValue, prevIndex, expireAtMs: null, refresh: false, nowMs: T0, ...extra };
}

export function deleteCmd(key: string, extra: Partial<DeleteCommand> = {}): DeleteCommand {
  return { op: 'delete', key, dir: false, recursive: false, nowMs: T0, ...extra };
}

export function cadCmd(key: string, prevValue: string | null, prevIndex: number): CompareAndDeleteCommand {
  return { op: 'compareAndDelete', key, prevValue, prevIndex, nowMs: T0 };
}

/** The event body exactly as it would be serialised (key order included). */
export function body(event: StoreEvent): string {
  return JSON.stringify(event.json);
}

/** Run `action`, which must throw an EtcdError; return its JSON body. */
export function errorBody(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof EtcdError) return JSON.stringify(error.toJSON());
    throw error;
  }
  throw new Error('expected an EtcdError');
}
