import { EtcdError, ErrorCode } from '../common/errors.js';
import { goEscapeError, percentDecode } from './percent.js';

/**
 * Request parameters as Go's Request.ParseForm merges them: form-body values first, then the
 * query's; a parameter's value is its first one (Go FormValue). Names are case-sensitive.
 */
export class FormParams {
  private readonly values = new Map<string, string>();

  /** First value of `name`, or undefined when the parameter is absent. */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Keeps the first value seen, so adding the body before the query gives body precedence. */
  addFirst(name: string, value: string): void {
    if (!this.values.has(name)) this.values.set(name, value);
  }

  get size(): number {
    return this.values.size;
  }
}

const noParams = new FormParams();

/**
 * Parses an `a=1&b=2` query or x-www-form-urlencoded body into `params` like Go's
 * url.ParseQuery: empty segments are skipped, a `;` is an error, a bad escape is an error.
 * Every pair is still read (Go keeps going) but the first error wins: error 210.
 */
export function parseUrlEncoded(text: string, params: FormParams): void {
  let firstError: string | null = null;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    const pair = text.slice(start, end);
    start = end + 1;
    if (pair === '') continue;
    if (pair.includes(';')) {
      firstError ??= 'invalid semicolon separator in query';
      continue;
    }
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = percentDecode(rawName, true);
    const value = name === null ? null : percentDecode(rawValue, true);
    if (name === null || value === null) {
      firstError ??= goEscapeError(name === null ? rawName : rawValue);
      continue;
    }
    params.addFirst(name, value);
  }
  if (firstError !== null) throw new EtcdError(ErrorCode.InvalidForm, firstError);
}

/** Whether a Content-Type names a urlencoded form (Go ignores other bodies for ParseForm). */
export function isUrlEncodedForm(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/x-www-form-urlencoded';
}

/**
 * Body then query, as Go merges them. A body parse error takes precedence over a query one.
 * `body` is a latin1 byte string (each char one byte) or null when the body is not a form.
 */
export function parseParams(body: string | null, rawQuery: string): FormParams {
  // The hot path (a plain GET) has neither: share one empty, never-mutated instance.
  if ((body === null || body === '') && rawQuery === '') return noParams;
  const params = new FormParams();
  const bodyError = body !== null && body !== '' ? parseCollectingError(body, params) : null;
  const queryError = rawQuery !== '' ? parseCollectingError(rawQuery, params) : null;
  const error = bodyError ?? queryError;
  if (error !== null) throw error;
  return params;
}

function parseCollectingError(text: string, params: FormParams): EtcdError | null {
  try {
    parseUrlEncoded(text, params);
    return null;
  } catch (err) {
    if (err instanceof EtcdError) return err;
    throw err;
  }
}
