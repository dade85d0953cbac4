/**
 * The leader's side of a join under a name that is already a member (the known-name refusal):
 * raw `PUT /join` requests on a real single member's peer port. A new name is admitted; the same
 * joiner asking again (same joinId: its answer was lost) gets the same id; anyone else under
 * that name — a wiped data dir, a 0.4.6 joiner without a joinId — is refused with 105.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { SHORT_TIMINGS } from '../support/cluster.js';
import { decodeUvarint } from '../../src/server/join.js';

let founder: EtcdProcess;
before(async () => {
  founder = await startEtcd({ name: 'f1', args: [...SHORT_TIMINGS] });
});
after(async () => {
  await founder.remove();
});

async function join(body: Record<string, unknown>): Promise<{ status: number; memberId: string | null; body: Buffer }> {
  const res = await fetch(`${founder.peerUrl}/join`, {
    method: 'PUT',
    body: JSON.stringify({ minVersion: 2, maxVersion: 2, ...body }),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, memberId: res.headers.get('x-etcd-member-id'), body: Buffer.from(await res.arrayBuffer()) };
}

test('a known name: the same joinId gets its id again; another joinId or none is 105 naming the member', async () => {
  // A joiner that never starts: the one-member cluster commits its add, and needs nothing more here.
  const ghost = { name: 'ghost', raftURL: 'http://127.0.0.1:9', etcdURL: 'http://127.0.0.1:10' };
  const first = await join({ ...ghost, joinId: 'aaaaaaaaaaaaaaaa' });
  assert.equal(first.status, 200, first.body.toString());
  assert.match(first.memberId ?? '', /^[0-9a-f]{16}$/);
  assert.ok((decodeUvarint(first.body) ?? 0) > 0);

  const retry = await join({ ...ghost, joinId: 'aaaaaaaaaaaaaaaa' });
  assert.equal(retry.status, 200, retry.body.toString());
  assert.equal(retry.memberId, first.memberId);

  for (const other of [{ ...ghost, joinId: 'bbbbbbbbbbbbbbbb' }, ghost, { ...ghost, raftURL: 'http://127.0.0.1:11' }]) {
    const refused = await join(other);
    assert.equal(refused.status, 412, refused.body.toString());
    const error = JSON.parse(refused.body.toString()) as { errorCode: number; message: string; cause: string; index: number };
    assert.deepEqual({ ...error, index: 0 }, { errorCode: 105, message: 'Key already exists', cause: `member ghost (${first.memberId}) is already in the cluster`, index: 0 });
    assert.ok(error.index > 0);
  }
});
