/**
 * Watch fan-out: N long-poll watchers (`GET ?wait=true`, one connection each, from a lean Node
 * client) wait on one key; then one PUT; the time from sending the PUT until the last watcher
 * has its event. Every watcher is registered (response headers received) before the write.
 */
import http from 'node:http';

interface OpenWatcher {
  readonly done: Promise<number>;
  readonly request: http.ClientRequest;
}

function openWatcher(url: URL, path: string, agent: http.Agent): Promise<OpenWatcher> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path, method: 'GET', agent });
    request.once('error', reject);
    request.once('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        return;
      }
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      const done = new Promise<number>((ok, fail) => {
        res.once('end', () => (bytes > 0 ? ok(performance.now()) : fail(new Error('watch ended without an event'))));
        res.once('error', fail);
      });
      resolve({ done, request });
    });
    request.end();
  });
}

async function put(url: URL, path: string, body: string): Promise<void> {
  const res = await fetch(new URL(path, url), {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`PUT ${path} answered ${res.status}`);
}

/** Milliseconds from sending one write until all `watchers` long-polls have received it. */
export async function measureWatchFanout(clientUrl: string, watchers: number, key: string): Promise<number> {
  const url = new URL(clientUrl);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const open: OpenWatcher[] = [];
  try {
    // Open in batches so the server's accept queue is not flooded.
    for (let i = 0; i < watchers; i += 100) {
      const batch = Array.from({ length: Math.min(100, watchers - i) }, () => openWatcher(url, `/v2/keys${key}?wait=true`, agent));
      open.push(...(await Promise.all(batch)));
    }
    const startMs = performance.now();
    const writeDone = put(url, `/v2/keys${key}`, 'value=go');
    const ends = await Promise.all(open.map((w) => w.done));
    await writeDone;
    return Math.max(...ends) - startMs;
  } finally {
    for (const w of open) w.request.destroy();
    agent.destroy();
  }
}
