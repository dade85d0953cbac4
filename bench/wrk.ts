/**
 * Load generation with wrk (Debian's wrk 4.1, C + LuaJIT, epoll): far cheaper per request than a
 * Node client, so on a 2-core machine the servers, not the generator, are what is measured.
 * Lua scripts pick random keys and build PUT bodies; they are written to a temp dir at start.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Responses outside 2xx/3xx plus socket errors (plus 3xx, with a no-redirect script): must be 0 for a run to count. */
  readonly errors: number;
  /** Set by the Node client (http-load.ts), which follows 307s; wrk never does. */
  readonly redirectsFollowed?: number;
}

/** GET of a random key out of `keys` (args: keys, query suffix such as `?quorum=true`). */
const GET_RANDOM_LUA = `
local keys = 10000
local suffix = ""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  keys = tonumber(args[1]) or keys
  suffix = args[2] or ""
  math.randomseed(os.time() * 1000 + (seed or 0))
end
function request()
  return wrk.format("GET", "/v2/keys/bench/k" .. math.random(0, keys - 1) .. suffix)
end
`;

/** PUT of a random key out of `keys` with a 64-byte value (args: keys). */
const PUT_RANDOM_LUA = `
local keys = 10000
local counter = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "value=" .. string.rep("v", 64)
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  keys = tonumber(args[1]) or keys
  math.randomseed(os.time() * 1000 + (seed or 0))
end
function request()
  return wrk.format("PUT", "/v2/keys/bench/p" .. math.random(0, keys - 1), headers, body)
end
`;

/**
 * Appended to a script for the cluster rows: wrk counts a 3xx as an answered request, but a 307
 * from a member that no longer leads is a request the server did not serve. Each thread counts
 * them (a global, so done() can read it from every thread) and done() prints the sum, which
 * parseWrkOutput adds to the errors.
 */
const COUNT_REDIRECTS_LUA = `
redirected = 0
local counted_threads = {}
local base_setup = setup
function setup(thread)
  if base_setup then base_setup(thread) end
  table.insert(counted_threads, thread)
end
function response(status, headers, body)
  if status >= 300 and status < 400 then redirected = redirected + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(counted_threads) do n = n + (t:get("redirected") or 0) end
  io.write(string.format("3xx responses: %d\\n", n))
end
`;

export interface WrkScripts {
  readonly getRandom: string;
  readonly putRandom: string;
  /** The same two, also counting 3xx answers as errors (cluster rows). */
  readonly getRandomNoRedirect: string;
  readonly putRandomNoRedirect: string;
}

export function writeWrkScripts(dir: string): WrkScripts {
  const scripts: WrkScripts = {
    getRandom: join(dir, 'get-random.lua'),
    putRandom: join(dir, 'put-random.lua'),
    getRandomNoRedirect: join(dir, 'get-random-no-redirect.lua'),
    putRandomNoRedirect: join(dir, 'put-random-no-redirect.lua'),
  };
  writeFileSync(scripts.getRandom, GET_RANDOM_LUA);
  writeFileSync(scripts.putRandom, PUT_RANDOM_LUA);
  writeFileSync(scripts.getRandomNoRedirect, GET_RANDOM_LUA + COUNT_REDIRECTS_LUA);
  writeFileSync(scripts.putRandomNoRedirect, PUT_RANDOM_LUA + COUNT_REDIRECTS_LUA);
  return scripts;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (m === null) throw new Error(`wrk: cannot parse duration ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
}

/** Parses `wrk --latency` output. */
export function parseWrkOutput(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const total = /(\d+) requests in/.exec(text);
  if (rps === null || p50 === null || p99 === null || total === null) throw new Error(`wrk: unexpected output:\n${text}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const redirected = /^3xx responses: (\d+)$/m.exec(text);
  return {
    requestsPerSec: Number(rps[1]),
    p50Ms: durationMs(p50[1] ?? ''),
    p99Ms: durationMs(p99[1] ?? ''),
    requests: Number(total[1]),
    errors: Number(non2xx?.[1] ?? 0) + socketErrors + Number(redirected?.[1] ?? 0),
  };
}

export interface WrkRun {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly script: string | null;
  readonly scriptArgs: readonly string[];
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  // Two threads at most: the machine has two cores shared with the server under test.
  const threads = Math.min(2, run.connections);
  const args = ['-t', String(threads), '-c', String(run.connections), '-d', `${run.durationS}s`, '--latency', '--timeout', '10s'];
  if (run.script !== null) args.push('-s', run.script);
  args.push(run.url);
  if (run.scriptArgs.length > 0) args.push('--', ...run.scriptArgs);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${out}`));
      else {
        try {
          resolve(parseWrkOutput(out));
        } catch (err) {
          reject(err);
        }
      }
    });
  });
}
