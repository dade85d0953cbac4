/**
 * JSON as Go's encoding/json writes it: compact, with HTML-sensitive characters and the
 * JS line separators escaped. etcd clients compare bodies byte for byte in places.
 */
const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => goEscapes[ch] ?? ch);
}

/** A response body as etcd 3.4 sends it: Go JSON plus a trailing newline. */
export function goJsonBody(value: unknown): string {
  return goJson(value) + '\n';
}
