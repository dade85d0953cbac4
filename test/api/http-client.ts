/** A raw HTTP client for tests: exact status, headers and body bytes, no redirect following. */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Send the body as a urlencoded form (the default when a body is given). */
  readonly form?: boolean;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined && options.form !== false && headers['Content-Type'] === undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  // Node's client frames DELETE bodies neither chunked nor by length unless told.
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens a request and resolves when the response headers arrive, with the body still streaming. */
export function openStream(baseUrl: string, path: string): Promise<{ res: http.IncomingMessage; req: http.ClientRequest; text(): string; ended: Promise<string> }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'GET', path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const ended = new Promise<string>((done) => {
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => done(text));
        res.on('error', () => done(text));
        res.on('close', () => done(text));
      });
      resolve({ res, req, text: () => text, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

export function destroyAgent(): void {
  agent.destroy();
}
