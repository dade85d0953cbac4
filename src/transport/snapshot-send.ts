/**
 * One MsgSnap, sent on a connection of its own so the peer's heartbeats and appends are not
 * stuck behind many MB of snapshot: dial, write the one frame, wait for the receiver's ack byte
 * (written once its member has the message). Anything else — refused, reset, timed out — is a
 * failure, which Raft answers by probing the follower again later.
 */
import type net from 'node:net';
import type { Message, NodeId } from '../raft/types.js';
import { encodeFrames } from './codec.js';
import { dialRaft, type Dial, type TlsFiles } from './dial.js';
import { SNAPSHOT_ACK, type HandshakeRequest } from './handshake.js';

export interface SnapshotSendOptions {
  readonly url: string;
  readonly selfId: NodeId;
  readonly clusterId: string;
  readonly selfPeerUrls: readonly string[];
  readonly tls: TlsFiles | null;
  readonly dialTimeoutMs: number;
  /** The whole send, dial to ack. */
  readonly timeoutMs: number;
}

export interface SnapshotSend {
  /** 'finish' once acknowledged; never rejects. `reason` says why a failure failed. */
  readonly done: Promise<{ status: 'finish' | 'failure'; reason: string }>;
  /** Abandons the send (it resolves as a failure). */
  cancel(): void;
}

export function sendSnapshot(message: Message, opts: SnapshotSendOptions): SnapshotSend {
  let dial: Dial | null = null;
  let socket: net.Socket | null = null;
  let settled = false;
  let finish: (status: 'finish' | 'failure', reason: string) => void = () => undefined;
  const done = new Promise<{ status: 'finish' | 'failure'; reason: string }>((resolve) => {
    const timer = setTimeout(() => finish('failure', `no ack within ${opts.timeoutMs} ms`), opts.timeoutMs);
    finish = (status, reason): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      dial?.cancel();
      socket?.destroy();
      resolve({ status, reason });
    };
  });
  const handshake: HandshakeRequest = {
    clusterId: opts.clusterId,
    from: opts.selfId,
    to: message.to,
    peerUrls: opts.selfPeerUrls,
    stream: 'snapshot',
  };
  dial = dialRaft({ url: opts.url, handshake, tls: opts.tls, timeoutMs: opts.dialTimeoutMs });
  dial.connected.then(
    (s) => {
      if (settled) return void s.destroy();
      socket = s;
      s.on('error', (error) => finish('failure', error.message));
      s.on('close', () => finish('failure', 'connection closed before the ack'));
      s.on('data', (chunk: Buffer) => {
        finish(chunk[0] === SNAPSHOT_ACK ? 'finish' : 'failure', chunk[0] === SNAPSHOT_ACK ? 'acknowledged' : 'bad ack byte');
      });
      s.write(encodeFrames([message]));
    },
    (error: unknown) => finish('failure', error instanceof Error ? error.message : String(error)),
  );
  return { done, cancel: () => finish('failure', 'cancelled') };
}
