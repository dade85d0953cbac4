/**
 * Percent-decoding as Go's net/url does it: `%XX` escapes are bytes, the result is read as
 * UTF-8 (invalid sequences become U+FFFD, which is what etcd renders them as), and `+` is a
 * space only in query/form components, never in paths.
 */

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Decoded text, or null when an escape is malformed (see goEscapeError for the message). */
export function percentDecode(text: string, plusIsSpace: boolean): string | null {
  const percentAt = text.indexOf('%');
  if (percentAt === -1) {
    const plain = plusIsSpace && text.includes('+') ? text.replaceAll('+', ' ') : text;
    return isAscii(plain) ? plain : Buffer.from(plain, 'latin1').toString('utf8');
  }
  const bytes = Buffer.allocUnsafe(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 37 /* % */) {
      const high = i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
      const low = high >= 0 ? hexValue(text.charCodeAt(i + 2)) : -1;
      if (low < 0) return null;
      bytes[length++] = high * 16 + low;
      i += 2;
    } else if (code === 43 /* + */ && plusIsSpace) {
      bytes[length++] = 32;
    } else {
      // Input is a byte string (URL or latin1-read body): every char is one byte.
      bytes[length++] = code & 0xff;
    }
  }
  return bytes.toString('utf8', 0, length);
}

/** Go's url.EscapeError text for the first malformed escape in `text`. */
export function goEscapeError(text: string): string {
  for (let i = text.indexOf('%'); i !== -1; i = text.indexOf('%', i + 1)) {
    const ok = i + 2 < text.length && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0;
    if (!ok) return `invalid URL escape ${JSON.stringify(text.slice(i, i + 3))}`;
    i += 2;
  }
  return 'invalid URL escape';
}

function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[^\x00-\x7f]/.test(text);
}

/** Escapes a decoded path for a Location header like Go's url.URL.String (RFC 3986 path chars). */
export function escapePath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (ch) => (ch === '?' ? '%3F' : '%23'));
}
