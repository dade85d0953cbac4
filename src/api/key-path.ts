import { posix } from 'node:path';

/**
 * Paths as etcd's Go HTTP stack sees them. The mux answers a path that is not clean (`//`,
 * `/./`, `/../`) with 301 to the cleaned one; the keys handler turns what follows `/v2/keys`
 * into a key cleaned like Go's path.Clean(path.Join("/", key)).
 */

/** Go ServeMux cleanPath: path.Clean, but a trailing slash survives. */
export function muxCleanPath(path: string): string {
  if (path === '') return '/';
  const rooted = path.startsWith('/') ? path : `/${path}`;
  let cleaned = posix.normalize(rooted);
  if (cleaned.length > 1 && cleaned.endsWith('/') && !rooted.endsWith('/')) cleaned = cleaned.slice(0, -1);
  if (rooted.endsWith('/') && !cleaned.endsWith('/')) cleaned += '/';
  return cleaned;
}

/** `/v2/keys/a/b/` → `/a/b`; `/v2/keys` and `/v2/keys/` → `/`. `rest` is what follows `/v2/keys`. */
export function keyFromPath(rest: string): string {
  if (rest === '' || rest === '/') return '/';
  const cleaned = posix.normalize(rest.startsWith('/') ? rest : `/${rest}`);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/**
 * The member's own bookkeeping (spec §10, §17): `/_etcd/machines/**` and `/_etcd/config` are
 * written only by the member. A client write there (or on `/_etcd` itself, whose recursive
 * delete would take them along) is refused; `/_etcd/registry/**` (discovery) stays writable.
 */
export function isMemberOwnedKey(key: string): boolean {
  if (key === '/_etcd') return true;
  return isAtOrUnder(key, '/_etcd/machines') || isAtOrUnder(key, '/_etcd/config');
}

function isAtOrUnder(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(`${prefix}/`);
}

/**
 * The origin-form part of a request target: an absolute-form target (`GET http://host/path`, as
 * proxies send) is reduced to its path and query, and a fragment is dropped, as Go does.
 */
export function requestTarget(target: string): string {
  let path = target;
  if (!path.startsWith('/')) {
    const schemeEnd = path.indexOf('://');
    if (schemeEnd !== -1) {
      const pathStart = path.indexOf('/', schemeEnd + 3);
      path = pathStart === -1 ? '/' : path.slice(pathStart);
    }
  }
  const fragmentAt = path.indexOf('#');
  return fragmentAt === -1 ? path : path.slice(0, fragmentAt);
}
