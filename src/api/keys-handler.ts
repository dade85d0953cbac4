import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdError, ErrorCode } from '../common/errors.js';
import type { StoreEvent } from '../store/types.js';
import { isUrlEncodedForm, parseParams } from './form.js';
import { parseKeysRequest, type KeysMethod, type KeysRequest, type ReadRequest, type WriteRequest } from './keys-request.js';
import type { ClientPortMember } from './member-port.js';
import type { ClientPortOptions } from './options.js';
import { keyHeaders, redirectToLeader, sendEtcdError, sendJson, sendMethodNotAllowed } from './respond.js';
import { serveWatch } from './watch-handler.js';

/**
 * `/v2/keys[/...]`: read the form, validate into a read, watch or write (keys-request.ts), then
 * serve reads and watches from the local store and send writes through the member (Raft).
 */

/** Actions whose body `noValueOnSuccess=true` reduces to `{"action":...}` (not deletes, as 3.4). */
const valueActions: ReadonlySet<string> = new Set(['set', 'create', 'update', 'compareAndSwap']);

export const keysAllow = 'HEAD,GET,PUT,POST,DELETE';

export interface KeysContext {
  readonly member: ClientPortMember;
  readonly options: ClientPortOptions;
}

function asKeysMethod(method: string | undefined): KeysMethod | null {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'PUT':
    case 'POST':
    case 'DELETE':
      return method;
    default:
      return null;
  }
}

/** `key` is the decoded, cleaned key; `rawQuery` the undecoded query string. */
export function handleKeys(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, key: string, rawQuery: string): void {
  const method = asKeysMethod(req.method);
  if (method === null) {
    sendMethodNotAllowed(req, res, keysAllow);
    return;
  }
  // Go's ParseForm reads a body only for POST and PUT (and PATCH) with a urlencoded Content-Type.
  if ((method === 'PUT' || method === 'POST') && isUrlEncodedForm(req.headers['content-type'])) {
    readFormBody(ctx, req, res, (body) => serveKeys(ctx, req, res, method, key, body, rawQuery));
  } else {
    afterDiscardingBody(req, () => serveKeys(ctx, req, res, method, key, null, rawQuery));
  }
}

/**
 * A body nobody reads (GET/DELETE, or not a form) is drained, and only then answered, so the
 * answer never races the client's upload on a keep-alive connection. Nothing is buffered.
 */
export function afterDiscardingBody(req: IncomingMessage, then: () => void): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (!hasBody || req.complete) {
    then();
    return;
  }
  req.once('end', then);
  req.resume();
}

/** Collects the body as a latin1 byte string; an oversized body is answered 210 and the connection closed. */
function readFormBody(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, then: (body: string) => void): void {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > ctx.options.maxBodyBytes) {
    rejectOversizedBody(ctx, req, res);
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > ctx.options.maxBodyBytes) {
      rejectOversizedBody(ctx, req, res);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (received > ctx.options.maxBodyBytes) return;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    then(body.toString('latin1'));
  });
}

function rejectOversizedBody(ctx: KeysContext, req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) return;
  res.shouldKeepAlive = false;
  res.setHeader('Connection', 'close');
  sendEtcdError(req, res, ctx.member, new EtcdError(ErrorCode.InvalidForm, 'http: POST too large'));
  req.removeAllListeners('data');
  res.once('finish', () => req.destroy());
}

function serveKeys(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, method: KeysMethod, key: string, body: string | null, rawQuery: string): void {
  let request: KeysRequest;
  try {
    request = parseKeysRequest(method, key, parseParams(body, rawQuery), ctx.member.clock.nowMs());
  } catch (error) {
    answerError(ctx, req, res, error);
    return;
  }
  switch (request.kind) {
    case 'read':
      serveRead(ctx, req, res, request);
      return;
    case 'watch':
      serveWatch(ctx.member, ctx.options, req, res, request);
      return;
    case 'write':
      serveWrite(ctx, req, res, request);
      return;
  }
}

/** Expected failures become v2 error bodies; anything else is a bug and must surface, not be swallowed. */
export function answerError(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (!(error instanceof EtcdError)) throw error;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendEtcdError(req, res, ctx.member, error);
}

function serveRead(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, request: ReadRequest): void {
  // consistent=true is 0.4.6's "ask the leader" (307); quorum=true is answered here after a
  // ReadIndex round through the leader, as linearizable as a read on the leader.
  if (request.consistent && !ctx.member.isLeader()) {
    redirectToLeader(req, res, ctx.member);
    return;
  }
  if (!request.quorum) {
    readLocal(ctx, req, res, request);
    return;
  }
  ctx.member.readBarrier().then(
    () => readLocal(ctx, req, res, request),
    (error: unknown) => answerError(ctx, req, res, error),
  );
}

function readLocal(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, request: ReadRequest): void {
  let event: StoreEvent;
  try {
    event = ctx.member.store.get(request.key, { recursive: request.recursive, sorted: request.sorted }, ctx.member.clock.nowMs());
  } catch (error) {
    answerError(ctx, req, res, error);
    return;
  }
  sendJson(req, res, 200, keyHeaders(ctx.member, event.index), event.json);
}

function serveWrite(ctx: KeysContext, req: IncomingMessage, res: ServerResponse, request: WriteRequest): void {
  if (!ctx.member.isLeader()) {
    redirectToLeader(req, res, ctx.member);
    return;
  }
  ctx.member.write(request.command).then(
    (event) => {
      const body = request.noValueOnSuccess && valueActions.has(event.json.action) ? { action: event.json.action } : event.json;
      sendJson(req, res, event.created ? 201 : 200, keyHeaders(ctx.member, event.index), body);
    },
    (error: unknown) => answerError(ctx, req, res, error),
  );
}
