/**
 * Addresses and URLs in flags: `host:port` (0.4.6 `-addr`), `host[:port]` (`-bind-addr`) and
 * `http(s)://host:port` (2.x URL flags). Parsed by hand rather than with WHATWG `URL`, which
 * drops default ports (`http://h:80` has no port) and accepts paths we must refuse.
 * Each parser takes `fail(reason)`, so the caller's message can name the flag and value.
 */
import { isIPv6 } from 'node:net';

export type Fail = (reason: string) => never;

export type Scheme = 'http' | 'https';

export interface HostPort {
  /** Without IPv6 brackets; '' means every interface (only where allowed). */
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const PORT = /^[0-9]+$/;
const MAX_PORT = 65_535;

export function parsePort(text: string, fail: Fail): number {
  const port = Number(text);
  if (!PORT.test(text) || port < 1 || port > MAX_PORT) fail(`port must be a number from 1 to ${MAX_PORT}`);
  return port;
}

/** A bracketed host (`[::1]:4001`) must be IPv6; a zone (`%eth0`) is allowed after it. */
function checkHost(host: string, fail: Fail, bracketed = false): void {
  if (bracketed || host.includes(':')) {
    if (!isIPv6(host.replace(/%[A-Za-z0-9._-]+$/, ''))) fail(`"${host}" is not a valid IPv6 address`);
  } else if (!HOST_NAME.test(host)) {
    fail(`"${host}" is not a valid host name or IP address`);
  }
}

/** Go's net.SplitHostPort: `host:port` or `[v6]:port`; the host may be empty. */
function splitHostPort(text: string, fail: Fail): { host: string; portText: string; bracketed: boolean } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) fail('missing "]" in address');
    if (text[close + 1] !== ':') fail('address must be host:port');
    return { host: text.slice(1, close), portText: text.slice(close + 2), bracketed: true };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) fail('address must be host:port (missing port)');
  const host = text.slice(0, colon);
  if (host.includes(':')) fail('too many colons in address (write IPv6 addresses as [addr]:port)');
  return { host, portText: text.slice(colon + 1), bracketed: false };
}

/** `host:port` with a non-empty host: what 0.4.6 `-addr` and `-peer-addr` take. */
export function parseHostPort(text: string, fail: Fail): HostPort {
  const { host, portText, bracketed } = splitHostPort(text, fail);
  if (host === '') fail('address must be host:port (missing host)');
  checkHost(host, fail, bracketed);
  return { host, port: parsePort(portText, fail) };
}

/**
 * `host`, `host:port`, `:port`, `[v6]`, `[v6]:port` or a bare IPv6 address: what `-bind-addr`
 * takes. Without a port the advertised port is used (0.4.6); an empty host is every interface.
 */
export function parseBindAddr(text: string, defaultPort: number, fail: Fail): HostPort {
  const hostOnly = (host: string, bracketed: boolean): HostPort => {
    if (host === '') fail('address must be host[:port]');
    checkHost(host, fail, bracketed);
    return { host, port: defaultPort };
  };
  if (text.startsWith('[') && text.endsWith(']')) return hostOnly(text.slice(1, -1), true);
  const colons = text.split(':').length - 1;
  if (!text.startsWith('[') && colons !== 1) return hostOnly(text, false);
  const { host, portText, bracketed } = splitHostPort(text, fail);
  if (host !== '') checkHost(host, fail, bracketed);
  return { host, port: parsePort(portText, fail) };
}

export function joinHostPort(address: HostPort): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

export interface ParsedUrl extends HostPort {
  readonly scheme: Scheme;
  /** `scheme://host:port`, no trailing slash. */
  readonly href: string;
}

const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;

/** `http(s)://host:port` with nothing after the port but an optional `/` (as etcd 2.x's NewURLs). */
export function parseServiceUrl(text: string, fail: Fail): ParsedUrl {
  const match = SCHEME_PREFIX.exec(text);
  if (match === null) fail('URL must look like http://host:port');
  const scheme = (match[1] ?? '').toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') fail(`URL scheme must be http or https, not "${scheme}"`);
  let rest = match[2] ?? '';
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#]/.test(rest)) fail('URL must not contain a path, query or fragment');
  if (rest.includes('@')) fail('URL must not contain user information');
  const address = parseHostPort(rest, fail);
  return { ...address, scheme, href: `${scheme}://${joinHostPort(address)}` };
}

/** A discovery URL: http(s) with a host; the path (the token) is kept verbatim. */
export function parseDiscoveryUrl(text: string, fail: Fail): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('URL scheme must be http or https');
  if (url.hostname === '') fail('URL has no host');
  return text;
}

const UNSPECIFIED_HOSTS = new Set(['', '0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/** Advertising "every interface" is useless to clients; such a listen URL advertises loopback. */
export function advertisableHost(host: string): string {
  return UNSPECIFIED_HOSTS.has(host) ? '127.0.0.1' : host;
}

/** An empty bind host means every interface. */
export function listenableHost(host: string): string {
  return host === '' ? '0.0.0.0' : host;
}
