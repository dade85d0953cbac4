/**
 * The oracle's request language. A generated sequence is pure data (a function of its seed);
 * anything that depends on the server's answers — an index to compare against, the name of an
 * in-order key — is written symbolically and resolved separately against each server from what
 * that server answered before. Two servers that agree resolve a symbol to values that are equal
 * relative to their own first write, so their answers stay comparable.
 */

/** A parameter value. `lit.text` is already form-encoded (so invalid UTF-8 and `%ZZ` are expressible). */
export type Sym =
  | { readonly kind: 'lit'; readonly text: string }
  /** The last modifiedIndex this server reported for the key at `key` (+ delta). */
  | { readonly kind: 'modifiedOf'; readonly key: readonly PathSeg[]; readonly delta: number }
  /** The sequence's index base + rel (rel 1 = the sequence's first write). */
  | { readonly kind: 'seqIndex'; readonly rel: number }
  /** The last X-Etcd-Index this server reported (+ delta). */
  | { readonly kind: 'currentIndex'; readonly delta: number }
  /** An index older than the 1000-event history (error 401) once the server has that many events. */
  | { readonly kind: 'ancientIndex' };

/** A key path segment: a form-encoded name, or the n-th in-order key this sequence created. */
export type PathSeg =
  | { readonly kind: 'name'; readonly text: string }
  | { readonly kind: 'inorder'; readonly n: number };

/**
 * How the URL path is spelled: `noSlashRoot` is `/v2/keys` itself, `doubleSlash` and `dotDot`
 * are unclean paths that Go's mux answers with 301 to the cleaned path.
 */
export type PathStyle = 'normal' | 'trailingSlash' | 'noSlashRoot' | 'doubleSlash' | 'dotDot';

export interface ReqSpec {
  readonly method: string;
  /** Key below the sequence's own prefix; null = the root `/` (outside the prefix). */
  readonly key: readonly PathSeg[] | null;
  readonly pathStyle: PathStyle;
  readonly query: ReadonlyArray<readonly [string, Sym]>;
  /** Sent as an application/x-www-form-urlencoded body (only PUT/POST/PATCH bodies are read by etcd). */
  readonly form: ReadonlyArray<readonly [string, Sym]>;
  /** The write sets a TTL of 0 or 1 s: the runner waits for the key to expire on both servers. */
  readonly expectsExpiry: boolean;
}

export type Step =
  | { readonly kind: 'request'; readonly req: ReqSpec }
  /**
   * A long-poll watch: the watch is opened on both servers (headers received = registered), then
   * the trigger groups run in order until a group's last request succeeds on the reference
   * server, then the watch body is read. If no group succeeds the watch may legitimately stay
   * open: both must then still be open.
   */
  | { readonly kind: 'watch'; readonly watch: ReqSpec; readonly triggers: ReadonlyArray<readonly ReqSpec[]> }
  | StreamStep;

/**
 * A streaming watch (`stream=true`, one JSON event per line): opened on both servers, then the
 * writes run; each write that succeeds on the reference must arrive as one line on both.
 */
export interface StreamStep {
  readonly kind: 'stream';
  readonly watch: ReqSpec;
  readonly writes: readonly ReqSpec[];
}

export interface Sequence {
  readonly seed: number;
  /** Key prefix owned by this sequence, e.g. `o17` (so sequences can share one server pair). */
  readonly prefix: string;
  readonly steps: readonly Step[];
}

export function lit(text: string): Sym {
  return { kind: 'lit', text };
}

export function name(text: string): PathSeg {
  return { kind: 'name', text };
}
