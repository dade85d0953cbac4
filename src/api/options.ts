/**
 * Configuration of the client port (the v2 HTTP/JSON API). One Config per component, with
 * defaults and a validator (DESIGN §3).
 */
export interface ClientPortOptions {
  /** `-cors` origins. Empty: no CORS headers. `*` allows any origin; otherwise the request's
   *  Origin is echoed when it is listed. */
  readonly corsOrigins: readonly string[];
  /** A watch (long poll or stream) with no event for this long ends with 200 and no (more) body,
   *  as etcd 3.4 does after 5 minutes; clients re-watch. */
  readonly watchIdleTimeoutMs: number;
  /** Largest form body read from PUT/POST. Go's ParseForm allows 10 MiB; beyond that the request
   *  gets error 210 and the connection is closed. */
  readonly maxBodyBytes: number;
  /** A stream watcher whose client does not read is cut off once this many bytes are queued
   *  (etcd ends a stream whose event buffer fills). */
  readonly maxStreamBacklogBytes: number;
}

export function defaultClientPortOptions(): ClientPortOptions {
  return {
    corsOrigins: [],
    watchIdleTimeoutMs: 300_000,
    maxBodyBytes: 10 * 1024 * 1024,
    maxStreamBacklogBytes: 1024 * 1024,
  };
}

/** Returns a complete, validated options object; throws Error with a precise message otherwise. */
export function resolveClientPortOptions(partial: Partial<ClientPortOptions> = {}): ClientPortOptions {
  const options: ClientPortOptions = { ...defaultClientPortOptions(), ...partial };
  const problems = validateClientPortOptions(options);
  if (problems.length > 0) throw new Error(`invalid client port options: ${problems.join('; ')}`);
  return options;
}

export function validateClientPortOptions(options: ClientPortOptions): string[] {
  const problems: string[] = [];
  const positiveInt = (value: number, name: string): void => {
    if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, got ${value}`);
  };
  positiveInt(options.watchIdleTimeoutMs, 'watchIdleTimeoutMs');
  positiveInt(options.maxBodyBytes, 'maxBodyBytes');
  positiveInt(options.maxStreamBacklogBytes, 'maxStreamBacklogBytes');
  // setTimeout silently clamps delays above 2^31-1 ms to 1 ms.
  if (options.watchIdleTimeoutMs > 2 ** 31 - 1) problems.push('watchIdleTimeoutMs must be below 2^31 ms');
  for (const origin of options.corsOrigins) {
    if (origin === '' || /[\s,]/.test(origin)) problems.push(`cors origin ${JSON.stringify(origin)} is not a single origin`);
  }
  return problems;
}
