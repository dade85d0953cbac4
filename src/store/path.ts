/**
 * Key paths as etcd sees them: always absolute, cleaned like Go's path.Clean(path.Join("/", p)).
 * The HTTP layer calls normalizeKey on the URL path; the store re-checks commands with the same
 * function so a key can never name two nodes.
 */

/** Go path.Clean(path.Join("/", rawPath)): collapse "//", resolve "." and "..", drop a trailing "/". */
export function normalizeKey(rawPath: string): string {
  if (isCleanKey(rawPath)) return rawPath;
  const kept: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      // ".." at the root stays at the root, as in Go.
      kept.pop();
      continue;
    }
    kept.push(segment);
  }
  return '/' + kept.join('/');
}

/** True when normalizeKey would return the key unchanged (the common case, checked in one pass). */
export function isCleanKey(key: string): boolean {
  if (key.length === 0 || key.charCodeAt(0) !== 47 /* / */) return false;
  if (key.length === 1) return true;
  if (key.charCodeAt(key.length - 1) === 47) return false;
  let segmentStart = 1;
  for (let i = 1; i <= key.length; i++) {
    if (i < key.length && key.charCodeAt(i) !== 47) continue;
    const segmentLength = i - segmentStart;
    if (segmentLength === 0) return false;
    if (key.charCodeAt(segmentStart) === 46 /* . */) {
      if (segmentLength === 1) return false;
      if (segmentLength === 2 && key.charCodeAt(segmentStart + 1) === 46) return false;
    }
    segmentStart = i + 1;
  }
  return true;
}

/** The parent directory of a clean key ("/a/b" → "/a", "/a" → "/"). */
export function parentKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash <= 0 ? '/' : key.slice(0, slash);
}

/** Join a clean directory key and a child name. */
export function childKey(dirKey: string, name: string): string {
  return dirKey === '/' ? '/' + name : dirKey + '/' + name;
}

/** A node is hidden when its own name starts with "_". */
export function isHiddenName(name: string): boolean {
  return name.charCodeAt(0) === 95; /* _ */
}

/**
 * Whether an event at `eventKey` is hidden from a watcher at the ancestor `watchKey`: some
 * segment strictly below the watched path starts with "_". A watcher deeper than the event
 * (told about a directory removal) never counts it as hidden.
 */
export function isHiddenBelow(watchKey: string, eventKey: string): boolean {
  if (watchKey.length > eventKey.length) return false;
  const rest = watchKey === '/' ? eventKey : eventKey.slice(watchKey.length);
  return rest.includes('/_');
}

/**
 * Byte-wise (UTF-8) order of two strings, which is code point order; JavaScript's `<` compares
 * UTF-16 units and disagrees for astral characters against U+E000..U+FFFF.
 */
export function compareKeysBytewise(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const aSurrogate = ca >= 0xd800 && ca <= 0xdfff;
    const bSurrogate = cb >= 0xd800 && cb <= 0xdfff;
    if (aSurrogate !== bSurrogate) return aSurrogate ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}
