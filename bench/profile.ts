/**
 * Summary of a V8 .cpuprofile (written by `node --cpu-prof` when our member exits): the functions
 * with the most self time, so a slow row can be traced to its bottleneck.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
}

function frameName(node: ProfileNode): string {
  const f = node.callFrame;
  const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return fn;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${fn} ${file}:${f.lineNumber + 1}`;
}

/**
 * Self time per function as a share of the busy (non-idle) samples. Idle is the main thread
 * waiting (for clients, or for an fsync in the thread pool) and is reported on its own line.
 */
export function summarizeProfile(profile: CpuProfile, top: number): string[] {
  const selfHits = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const key = frameName(node);
    if (key === '(idle)') idle += hits;
    else selfHits.set(key, (selfHits.get(key) ?? 0) + hits);
  }
  const busy = Math.max(total - idle, 1);
  const lines = [`idle ${((100 * idle) / Math.max(total, 1)).toFixed(1)}% of ${total} samples; shares below are of busy samples`];
  for (const [name, hits] of [...selfHits.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${((100 * hits) / busy).toFixed(1).padStart(5)}%  ${name}`);
  }
  return lines;
}

/** Summaries of every .cpuprofile in `dir`. */
export function summarizeProfiles(dir: string, top = 25): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return [`no .cpuprofile in ${dir} (the member must exit normally on SIGTERM to write one)`];
  return files.flatMap((f) => {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    return [`CPU profile of our member (${join(dir, f)}), top self time:`, ...summarizeProfile(profile, top)];
  });
}
