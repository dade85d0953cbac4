/**
 * etcdctl 0.4.5 output (spec §15.3): `simple` prints the value, `extended` an RFC 2822-style
 * block with the index headers, `json` the go-etcd Response with etcdIndex/raftIndex/raftTerm.
 */
import { goJson } from '../common/json.js';
import type { EtcdNode, EtcdResponse } from '../client/index.js';

export type OutputFormat = string;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** go-etcd's Node as encoding/json writes it: `key` always, zero values omitted. */
function nodeJson(node: EtcdNode): Record<string, unknown> {
  const json: Record<string, unknown> = { key: node.key };
  if (node.value !== undefined && node.value !== '') json.value = node.value;
  if (node.dir === true) json.dir = true;
  if (node.expiration !== undefined) json.expiration = node.expiration;
  if (node.ttl !== undefined && node.ttl !== 0) json.ttl = node.ttl;
  if (node.nodes !== undefined && node.nodes.length > 0) json.nodes = node.nodes.map(nodeJson);
  if (node.modifiedIndex !== 0) json.modifiedIndex = node.modifiedIndex;
  if (node.createdIndex !== 0) json.createdIndex = node.createdIndex;
  return json;
}

export function responseJson(res: EtcdResponse): string {
  const json: Record<string, unknown> = { action: res.action, node: nodeJson(res.node) };
  if (res.prevNode !== undefined) json.prevNode = nodeJson(res.prevNode);
  json.etcdIndex = res.etcdIndex;
  json.raftIndex = res.raftIndex;
  json.raftTerm = res.raftTerm;
  return goJson(json);
}

function extended(res: EtcdResponse): string {
  const lines = [`Key: ${res.node.key}`, `Created-Index: ${res.node.createdIndex}`, `Modified-Index: ${res.node.modifiedIndex}`];
  if (res.prevNode !== undefined) lines.push(`PrevNode.Value: ${res.prevNode.value ?? ''}`);
  lines.push(`TTL: ${res.node.ttl ?? 0}`, `Etcd-Index: ${res.etcdIndex}`, `Raft-Index: ${res.raftIndex}`, `Raft-Term: ${res.raftTerm}`, '');
  lines.push(res.node.value ?? '');
  return lines.join('\n') + '\n';
}

/** printKeyOnly: one node in the chosen format (an unknown format is reported, not fatal). */
export function printKey(res: EtcdResponse, format: OutputFormat, output: Output): void {
  switch (format) {
    case 'simple':
      output.out(`${res.node.value ?? ''}\n`);
      return;
    case 'extended':
      output.out(extended(res));
      return;
    case 'json':
      output.out(`${responseJson(res)}\n`);
      return;
    default:
      output.err(`Unsupported output format: ${format}\n`);
  }
}

/** printAll: directories print nothing (rm of a dir, watch events on dirs). */
export function printUnlessDir(res: EtcdResponse, format: OutputFormat, output: Output): void {
  if (res.node.dir === true) return;
  printKey(res, format, output);
}

/** `ls`: a file lists its own key; a dir lists its children depth first (`-p` marks dirs with `/`). */
export function printLs(res: EtcdResponse, markDirs: boolean, output: Output): void {
  const lines: string[] = [];
  const walk = (node: EtcdNode): void => {
    lines.push(markDirs && node.dir === true ? `${node.key}/` : node.key);
    for (const child of node.nodes ?? []) walk(child);
  };
  if (res.node.dir !== true) lines.push(res.node.key);
  for (const child of res.node.nodes ?? []) walk(child);
  if (lines.length > 0) output.out(lines.join('\n') + '\n');
}
