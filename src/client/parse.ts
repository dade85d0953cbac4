/**
 * Turns an HTTP answer into an EtcdResponse or the typed error it stands for. Servers differ in
 * small ways (3.4 omits the root's key and index fields; 0.4 bodies lack a trailing newline);
 * this is the one place that evens that out.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { EtcdApiError, UnexpectedResponseError } from './errors.js';
import type { HttpResponse } from './http.js';
import type { EtcdNode, EtcdResponse, IndexHeaders } from './types.js';

export function indexHeaders(headers: IncomingHttpHeaders): IndexHeaders {
  return {
    etcdIndex: headerNumber(headers['x-etcd-index']),
    raftIndex: headerNumber(headers['x-raft-index']),
    raftTerm: headerNumber(headers['x-raft-term']),
  };
}

function headerNumber(value: string | string[] | undefined): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d+$/.test(text)) return 0;
  return Number(text);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return undefined;
  }
}

/** The v2 error in a body, or undefined when the body is not one. */
export function apiErrorOf(res: HttpResponse): EtcdApiError | undefined {
  const json = parseJson(res);
  if (!isObject(json) || typeof json.errorCode !== 'number') return undefined;
  return new EtcdApiError(
    json.errorCode,
    typeof json.message === 'string' ? json.message : '',
    typeof json.cause === 'string' ? json.cause : '',
    typeof json.index === 'number' ? json.index : 0,
    res.status,
    indexHeaders(res.headers),
  );
}

/** A keys API answer: the envelope on 2xx, otherwise the v2 error is thrown. */
export function parseKeysResponse(res: HttpResponse): EtcdResponse {
  const apiError = apiErrorOf(res);
  if (apiError !== undefined) throw apiError;
  const json = parseJson(res);
  if (res.status < 200 || res.status >= 300 || !isObject(json) || typeof json.action !== 'string' || !isObject(json.node)) {
    throw new UnexpectedResponseError(res.status, res.body, res.url.href);
  }
  const headers = indexHeaders(res.headers);
  const node = parseNode(json.node);
  if (isObject(json.prevNode)) {
    return { action: json.action, node, prevNode: parseNode(json.prevNode), ...headers };
  }
  return { action: json.action, node, ...headers };
}

export function parseNode(json: Json): EtcdNode {
  const node: {
    key: string;
    value?: string;
    dir?: boolean;
    expiration?: string;
    ttl?: number;
    nodes?: EtcdNode[];
    modifiedIndex: number;
    createdIndex: number;
  } = {
    key: typeof json.key === 'string' ? json.key : '/',
    modifiedIndex: typeof json.modifiedIndex === 'number' ? json.modifiedIndex : 0,
    createdIndex: typeof json.createdIndex === 'number' ? json.createdIndex : 0,
  };
  if (typeof json.value === 'string') node.value = json.value;
  if (json.dir === true) node.dir = true;
  if (typeof json.expiration === 'string') node.expiration = json.expiration;
  if (typeof json.ttl === 'number') node.ttl = json.ttl;
  if (Array.isArray(json.nodes)) node.nodes = json.nodes.filter(isObject).map(parseNode);
  return node;
}
