import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEtcdCommand, SYSTEM_CONFIG_PATH } from './config.js';
import { ConfigError, type EtcdConfig } from './config-types.js';
import { OPTIONS } from './config-options.js';

type Files = Readonly<Record<string, string>>;
type Env = Readonly<Record<string, string | undefined>>;

function parse(argv: readonly string[], env: Env = {}, files: Files = {}): ReturnType<typeof parseEtcdCommand> {
  return parseEtcdCommand(argv, env, { hostname: 'testhost', readFile: (path) => files[path] ?? null });
}

function config(argv: readonly string[], env: Env = {}, files: Files = {}): EtcdConfig {
  const command = parse(argv, env, files);
  assert.equal(command.kind, 'run');
  if (command.kind !== 'run') throw new Error('unreachable');
  return command.config;
}

function rejects(argv: readonly string[], message: string, env: Env = {}, files: Files = {}): void {
  assert.throws(
    () => parse(argv, env, files),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

const DEFAULTS: EtcdConfig = {
  name: 'testhost',
  dataDir: 'testhost.etcd',
  advertiseClientUrls: ['http://127.0.0.1:4001'],
  listenClientUrls: ['http://127.0.0.1:4001'],
  advertisePeerUrls: ['http://127.0.0.1:7001'],
  listenPeerUrls: ['http://127.0.0.1:7001'],
  peers: [],
  discovery: '',
  initialCluster: [],
  initialClusterState: 'new',
  initialClusterToken: 'etcd-cluster',
  snapshot: true,
  snapshotCount: 10000,
  heartbeatIntervalMs: 50,
  electionTimeoutMs: 200,
  corsOrigins: [],
  clusterActiveSize: 9,
  clusterActiveSizeExplicit: false,
  clusterRemoveDelaySec: 1800,
  clusterSyncIntervalSec: 5,
  maxRetryAttempts: 3,
  retryIntervalSec: null,
  httpReadTimeoutSec: 300,
  httpWriteTimeoutSec: 300,
  clientTls: null,
  peerTls: null,
  force: false,
  forceNewCluster: false,
  verbosity: 0,
  trace: false,
  warnings: [],
};

const PEERS_FILE = { '/etc/peers': '10.0.0.2:7001,10.0.0.3:7001\n' };
const CLIENT_TLS = { certFile: '/c.crt', keyFile: '/c.key', caFile: '', clientCertAuth: false };
const PEER_TLS = { certFile: '/p.crt', keyFile: '/p.key', caFile: '', clientCertAuth: false };

interface Sample {
  /** Value given to the flag / env var (bool options: omitted). */
  readonly value?: string;
  /** Other flags the option needs to be valid. */
  readonly extra?: readonly string[];
  /** What the resulting config must contain. */
  readonly expect: Partial<EtcdConfig>;
}

/** One sample per option: the test below fails if an option in the table has no sample. */
const SAMPLES: Readonly<Record<string, Sample>> = {
  force: { expect: { force: true } },
  name: { value: 'node1', expect: { name: 'node1', dataDir: 'node1.etcd' } },
  'data-dir': { value: '/var/lib/etcd', expect: { dataDir: '/var/lib/etcd', name: 'testhost' } },
  cors: { value: 'http://a.example:8080,*', expect: { corsOrigins: ['http://a.example:8080', '*'] } },
  v: { expect: { verbosity: 1 } },
  vv: { expect: { verbosity: 2 } },
  vvv: { expect: { verbosity: 3 } },
  discovery: { value: 'https://discovery.etcd.io/abc', expect: { discovery: 'https://discovery.etcd.io/abc' } },
  'peers-file': { value: '/etc/peers', expect: { peers: ['http://10.0.0.2:7001', 'http://10.0.0.3:7001'] } },
  peers: { value: '10.0.0.2:7001,10.0.0.3:7001', expect: { peers: ['http://10.0.0.2:7001', 'http://10.0.0.3:7001'] } },
  addr: {
    value: '10.0.0.1:4002',
    expect: { advertiseClientUrls: ['http://10.0.0.1:4002'], listenClientUrls: ['http://10.0.0.1:4002'] },
  },
  'bind-addr': {
    value: '0.0.0.0:4003',
    expect: { advertiseClientUrls: ['http://127.0.0.1:4003'], listenClientUrls: ['http://0.0.0.0:4003'] },
  },
  'ca-file': {
    value: '/ca.crt',
    extra: ['-cert-file', '/c.crt', '-key-file', '/c.key'],
    expect: { clientTls: { ...CLIENT_TLS, caFile: '/ca.crt', clientCertAuth: true } },
  },
  'cert-file': {
    value: '/c.crt',
    extra: ['-key-file', '/c.key'],
    expect: { clientTls: CLIENT_TLS, advertiseClientUrls: ['https://127.0.0.1:4001'] },
  },
  'key-file': { value: '/c.key', extra: ['-cert-file', '/c.crt'], expect: { clientTls: CLIENT_TLS } },
  'peer-addr': {
    value: '10.0.0.1:7002',
    expect: { advertisePeerUrls: ['http://10.0.0.1:7002'], listenPeerUrls: ['http://10.0.0.1:7002'] },
  },
  'peer-bind-addr': {
    value: '0.0.0.0',
    expect: { advertisePeerUrls: ['http://127.0.0.1:7001'], listenPeerUrls: ['http://0.0.0.0:7001'] },
  },
  'peer-ca-file': {
    value: '/pca.crt',
    extra: ['-peer-cert-file', '/p.crt', '-peer-key-file', '/p.key'],
    expect: { peerTls: { ...PEER_TLS, caFile: '/pca.crt', clientCertAuth: true } },
  },
  'peer-cert-file': {
    value: '/p.crt',
    extra: ['-peer-key-file', '/p.key'],
    expect: { peerTls: PEER_TLS, advertisePeerUrls: ['https://127.0.0.1:7001'] },
  },
  'peer-key-file': { value: '/p.key', extra: ['-peer-cert-file', '/p.crt'], expect: { peerTls: PEER_TLS } },
  'peer-heartbeat-interval': { value: '60', expect: { heartbeatIntervalMs: 60 } },
  'peer-election-timeout': { value: '900', expect: { electionTimeoutMs: 900 } },
  'max-result-buffer': { value: '2048', expect: {} },
  'max-retry-attempts': { value: '7', expect: { maxRetryAttempts: 7 } },
  'retry-interval': { value: '1.5', expect: { retryIntervalSec: 1.5 } },
  snapshot: { value: 'false', expect: { snapshot: false } },
  'snapshot-count': { value: '500', expect: { snapshotCount: 500 } },
  'cluster-active-size': { value: '5', expect: { clusterActiveSize: 5, clusterActiveSizeExplicit: true } },
  'cluster-remove-delay': { value: '30.5', expect: { clusterRemoveDelaySec: 30.5 } },
  'cluster-sync-interval': { value: '2', expect: { clusterSyncIntervalSec: 2 } },
  'http-read-timeout': { value: '10', expect: { httpReadTimeoutSec: 10 } },
  'http-write-timeout': { value: '20', expect: { httpWriteTimeoutSec: 20 } },
  trace: { value: '*', expect: { trace: true } },
  'graphite-host': { value: 'g:2003', expect: {} },
  cpuprofile: { value: '/tmp/cpu', expect: {} },
  'listen-client-urls': {
    value: 'http://0.0.0.0:2379,http://10.0.0.1:4001',
    expect: {
      listenClientUrls: ['http://0.0.0.0:2379', 'http://10.0.0.1:4001'],
      advertiseClientUrls: ['http://127.0.0.1:2379', 'http://10.0.0.1:4001'],
    },
  },
  'advertise-client-urls': {
    value: 'http://10.0.0.1:2379',
    expect: { advertiseClientUrls: ['http://10.0.0.1:2379'], listenClientUrls: ['http://10.0.0.1:2379'] },
  },
  'listen-peer-urls': {
    value: 'http://10.0.0.1:2380/',
    expect: { listenPeerUrls: ['http://10.0.0.1:2380'], advertisePeerUrls: ['http://10.0.0.1:2380'] },
  },
  'initial-advertise-peer-urls': {
    value: 'http://10.0.0.1:2380,http://10.0.0.2:2380',
    expect: { advertisePeerUrls: ['http://10.0.0.1:2380', 'http://10.0.0.2:2380'] },
  },
  'initial-cluster': {
    value: 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380',
    expect: {
      initialCluster: [
        { name: 'a', peerUrl: 'http://10.0.0.1:2380' },
        { name: 'b', peerUrl: 'http://10.0.0.2:2380' },
      ],
    },
  },
  'initial-cluster-state': { value: 'existing', expect: { initialClusterState: 'existing' } },
  'initial-cluster-token': { value: 'tok-1', expect: { initialClusterToken: 'tok-1' } },
  'heartbeat-interval': { value: '100', expect: { heartbeatIntervalMs: 100 } },
  'election-timeout': { value: '1000', expect: { electionTimeoutMs: 1000 } },
  'trusted-ca-file': {
    value: '/ca.crt',
    extra: ['--cert-file', '/c.crt', '--key-file', '/c.key'],
    expect: { clientTls: { ...CLIENT_TLS, caFile: '/ca.crt' } },
  },
  'client-cert-auth': {
    extra: ['--cert-file', '/c.crt', '--key-file', '/c.key', '--trusted-ca-file', '/ca.crt'],
    expect: { clientTls: { ...CLIENT_TLS, caFile: '/ca.crt', clientCertAuth: true } },
  },
  'peer-trusted-ca-file': {
    value: '/pca.crt',
    extra: ['--peer-cert-file', '/p.crt', '--peer-key-file', '/p.key'],
    expect: { peerTls: { ...PEER_TLS, caFile: '/pca.crt' } },
  },
  'peer-client-cert-auth': {
    extra: ['--peer-cert-file', '/p.crt', '--peer-key-file', '/p.key', '--peer-trusted-ca-file', '/pca.crt'],
    expect: { peerTls: { ...PEER_TLS, caFile: '/pca.crt', clientCertAuth: true } },
  },
  'force-new-cluster': { expect: { forceNewCluster: true } },
  'enable-v2': { expect: { warnings: [] } },
  proxy: { value: 'off', expect: {} },
  'discovery-fallback': { value: 'exit', expect: {} },
  'discovery-proxy': { value: 'http://p:1', expect: {} },
  'discovery-srv': { value: 'example.com', expect: {} },
  'strict-reconfig-check': { expect: {} },
  debug: { expect: {} },
  'log-level': { value: 'error', expect: {} },
  logger: { value: 'zap', expect: {} },
  'log-outputs': { value: 'stderr', expect: {} },
  'max-snapshots': { value: '5', expect: {} },
  'max-wals': { value: '5', expect: {} },
  'quota-backend-bytes': { value: '1000', expect: {} },
  'auto-compaction-retention': { value: '1', expect: {} },
  'auto-compaction-mode': { value: 'periodic', expect: {} },
};

function expectFields(actual: EtcdConfig, expected: Partial<EtcdConfig>, label: string): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(actual[key as keyof EtcdConfig], value, `${label}: ${key}`);
  }
}

/** `-f v`, `-f=v`, `--f v`, `--f=v`; booleans: `-f`, `--f`, `-f=true`, `--f=true` or `-f=v`, `--f=v`. */
function syntaxes(flag: string, isBool: boolean, value: string | undefined): string[][] {
  if (value === undefined) return [[`-${flag}`], [`--${flag}`], [`-${flag}=true`], [`--${flag}=true`]];
  if (isBool) return [[`-${flag}=${value}`], [`--${flag}=${value}`]];
  return [[`-${flag}`, value], [`-${flag}=${value}`], [`--${flag}`, value], [`--${flag}=${value}`]];
}

describe('defaults', () => {
  test('no flags: 0.4.6 defaults, name from the hostname, listening only where advertised', () => {
    assert.deepEqual(config([]), DEFAULTS);
  });

  test('an empty hostname and no -name is refused with 0.4.6 words', () => {
    assert.throws(() => parseEtcdCommand([], {}, { hostname: '', readFile: () => null }), {
      message: "Node name required and hostname not set. e.g. '-name=name'",
    });
  });
});

describe('every flag, in every syntax', () => {
  test('every option in the table has a sample here', () => {
    const missing = OPTIONS.map((spec) => spec.name).filter((name) => !(name in SAMPLES));
    assert.deepEqual(missing, []);
  });

  for (const spec of OPTIONS) {
    const sample = SAMPLES[spec.name];
    if (sample === undefined) continue;
    test(`-${spec.name}`, () => {
      for (const form of syntaxes(spec.name, spec.kind === 'bool', sample.value)) {
        const result = config([...(sample.extra ?? []), ...form], {}, PEERS_FILE);
        expectFields(result, sample.expect, form.join(' '));
      }
    });
  }

  test('boolean flags: -f, -force=false, -snapshot=0, -snapshot=t, Go spellings of true/false', () => {
    assert.equal(config(['-f']).force, true);
    assert.equal(config(['-force=false']).force, false);
    assert.equal(config(['-snapshot=0']).snapshot, false);
    assert.equal(config(['-snapshot=F']).snapshot, false);
    assert.equal(config(['-snapshot=FALSE']).snapshot, false);
    assert.equal(config(['-snapshot=false', '-snapshot=t']).snapshot, true);
    assert.equal(config(['-snapshot']).snapshot, true);
  });

  test('a boolean flag does not take the next argument (as Go)', () => {
    rejects(['-snapshot', 'false'], "'false' is not a valid flag");
  });

  test('a non-boolean flag takes the next argument even when it starts with a dash (as Go)', () => {
    assert.equal(config(['-name', '-odd']).name, '-odd');
  });

  test('-v -vv -vvv: the most verbose wins', () => {
    assert.equal(config(['-v', '-vvv']).verbosity, 3);
    assert.equal(config(['-vv', '-v']).verbosity, 2);
  });
});

describe('repeated flags and deprecated aliases', () => {
  test('a repeated flag: the last value wins', () => {
    assert.equal(config(['-name', 'a', '--name=b']).name, 'b');
    assert.equal(config(['-snapshot-count=5', '-snapshot-count', '6']).snapshotCount, 6);
    assert.deepEqual(config(['-peers', 'a:1', '-peers', 'b:2']).peers, ['http://b:2']);
  });

  test('an alias and the new name are one flag: the last wins', () => {
    const result = config(['-n', 'old', '-name', 'new']);
    assert.equal(result.name, 'new');
    assert.deepEqual(result.warnings, ['[deprecated] use -name, not -n']);
  });

  const ALIASES: ReadonlyArray<readonly [string[], Partial<EtcdConfig>, string]> = [
    [['-C', 'h:1'], { peers: ['http://h:1'] }, '[deprecated] use -peers, not -C'],
    [['-CF', '/etc/peers'], { peers: ['http://10.0.0.2:7001', 'http://10.0.0.3:7001'] }, '[deprecated] use -peers-file, not -CF'],
    [['-n', 'x'], { name: 'x' }, '[deprecated] use -name, not -n'],
    [['-c', '1.2.3.4:5'], { advertiseClientUrls: ['http://1.2.3.4:5'] }, '[deprecated] use -addr, not -c'],
    [['-cl', '0.0.0.0'], { listenClientUrls: ['http://0.0.0.0:4001'] }, '[deprecated] use -bind-addr, not -cl'],
    [['-s', '1.2.3.4:6'], { advertisePeerUrls: ['http://1.2.3.4:6'] }, '[deprecated] use -peer-addr, not -s'],
    [['-sl', '0.0.0.0'], { listenPeerUrls: ['http://0.0.0.0:7001'] }, '[deprecated] use -peer-bind-addr, not -sl'],
    [['-d', '/d'], { dataDir: '/d' }, '[deprecated] use -data-dir, not -d'],
    [['-m', '10'], {}, '[deprecated] use -max-result-buffer, not -m'],
    [['-r', '9'], { maxRetryAttempts: 9 }, '[deprecated] use -max-retry-attempts, not -r'],
    [['-maxsize', '4'], { clusterActiveSize: 4 }, '[deprecated] use -cluster-active-size, not -maxsize'],
    [['-max-cluster-size', '6'], { clusterActiveSize: 6 }, '[deprecated] use -cluster-active-size, not -max-cluster-size'],
    [['-snapshotCount', '77'], { snapshotCount: 77 }, '[deprecated] use -snapshot-count, not -snapshotCount'],
    [['-peer-heartbeat-timeout', '70'], { heartbeatIntervalMs: 70 }, '[deprecated] use -peer-heartbeat-interval, not -peer-heartbeat-timeout'],
    [
      ['-clientCert', '/c.crt', '-clientKey', '/c.key', '-clientCAFile', '/ca.crt'],
      { clientTls: { certFile: '/c.crt', keyFile: '/c.key', caFile: '/ca.crt', clientCertAuth: true } },
      '[deprecated] use -cert-file, not -clientCert',
    ],
    [
      ['-serverCert', '/p.crt', '-serverKey', '/p.key', '-serverCAFile', '/pca.crt'],
      { peerTls: { certFile: '/p.crt', keyFile: '/p.key', caFile: '/pca.crt', clientCertAuth: true } },
      '[deprecated] use -peer-cert-file, not -serverCert',
    ],
  ];

  for (const [argv, expected, warning] of ALIASES) {
    test(`deprecated ${argv[0] ?? ''}`, () => {
      const result = config(argv, {}, PEERS_FILE);
      expectFields(result, expected, argv.join(' '));
      assert.ok(result.warnings.includes(warning), `${JSON.stringify(result.warnings)} lacks ${warning}`);
    });
  }

  test('TLS aliases warn once per alias, in order', () => {
    assert.deepEqual(config(['-serverCert', '/p', '-serverKey', '/k', '-serverCert', '/p2']).warnings, [
      '[deprecated] use -peer-cert-file, not -serverCert',
      '[deprecated] use -peer-key-file, not -serverKey',
    ]);
  });
});

describe('command-line errors', () => {
  test('unknown flags, in either dash style', () => {
    rejects(['-xyz'], 'flag provided but not defined: -xyz');
    rejects(['--xyz=1'], 'flag provided but not defined: -xyz');
    rejects(['-name', 'a', '-bogus'], 'flag provided but not defined: -bogus');
  });

  test('bad syntax, missing arguments and positional arguments', () => {
    rejects(['---name=a'], 'bad flag syntax: ---name=a');
    rejects(['-=a'], 'bad flag syntax: -=a');
    rejects(['-name'], 'flag needs an argument: -name');
    rejects(['--config'], 'flag needs an argument: -config');
    rejects(['run'], "'run' is not a valid flag");
    rejects(['-'], "'-' is not a valid flag");
    rejects(['--', 'x'], "'x' is not a valid flag");
    assert.equal(config(['-name', 'a', '--']).name, 'a');
  });

  test('bad booleans and numbers name the flag and the value', () => {
    rejects(['-snapshot=maybe'], 'invalid boolean value "maybe" for -snapshot: use true or false');
    rejects(['--force=yes'], 'invalid boolean value "yes" for -force: use true or false');
    rejects(['-snapshot-count', 'abc'], 'invalid value "abc" for flag -snapshot-count: not an integer');
    rejects(['-snapshot-count=1.5'], 'invalid value "1.5" for flag -snapshot-count: not an integer');
    rejects(['-snapshotCount=0x10'], 'invalid value "0x10" for flag -snapshotCount: not an integer');
    rejects(['-peer-election-timeout', ' 5'], 'invalid value " 5" for flag -peer-election-timeout: not an integer');
    rejects(['-retry-interval', '2s'], 'invalid value "2s" for flag -retry-interval: not a number');
  });

  test('numbers out of range', () => {
    rejects(['-snapshot-count', '0'], 'invalid value "0" for flag -snapshot-count: must be at least 1');
    rejects(['-cluster-active-size', '2'], 'invalid value "2" for flag -cluster-active-size: must be at least 3');
    rejects(['-cluster-remove-delay', '1'], 'invalid value "1" for flag -cluster-remove-delay: must be at least 2 seconds');
    rejects(['-cluster-sync-interval', '0.5'], 'invalid value "0.5" for flag -cluster-sync-interval: must be at least 1 seconds');
    rejects(['-max-retry-attempts', '-1'], 'invalid value "-1" for flag -max-retry-attempts: must be at least 0');
    rejects(['-retry-interval', '0'], 'invalid value "0" for flag -retry-interval: must be more than 0 seconds');
    rejects(['-http-read-timeout', '0'], 'invalid value "0" for flag -http-read-timeout: must be more than 0 seconds');
    rejects(['-peer-heartbeat-interval', '0'], 'invalid value "0" for flag -peer-heartbeat-interval: must be at least 1 ms');
    rejects(['-m', '-5'], 'invalid value "-5" for flag -m: must be at least 0');
  });

  test('heartbeat must be below the election timeout, whichever names set them', () => {
    rejects(
      ['-peer-heartbeat-interval', '200'],
      'the heartbeat interval (200 ms, -peer-heartbeat-interval) must be less than the election timeout (200 ms, -peer-election-timeout)',
    );
    rejects(
      ['--heartbeat-interval', '100', '--election-timeout', '50'],
      'the heartbeat interval (100 ms, -heartbeat-interval) must be less than the election timeout (50 ms, -election-timeout)',
    );
  });

  test('addresses: -addr needs host:port; ports 1..65535', () => {
    rejects(['-addr', '127.0.0.1'], 'invalid value "127.0.0.1" for flag -addr: address must be host:port (missing port)');
    rejects(['-addr', ':4001'], 'invalid value ":4001" for flag -addr: address must be host:port (missing host)');
    rejects(['-addr', 'h:0'], 'invalid value "h:0" for flag -addr: port must be a number from 1 to 65535');
    rejects(['-peer-addr', 'h:65536'], 'invalid value "h:65536" for flag -peer-addr: port must be a number from 1 to 65535');
    rejects(['-addr', 'h:http'], 'invalid value "h:http" for flag -addr: port must be a number from 1 to 65535');
    rejects(['-addr', 'http://h:1'], 'invalid value "http://h:1" for flag -addr: too many colons in address (write IPv6 addresses as [addr]:port)');
    rejects(['-addr', 'a b:1'], 'invalid value "a b:1" for flag -addr: "a b" is not a valid host name or IP address');
    rejects(['-bind-addr', '0.0.0.0:x'], 'invalid value "0.0.0.0:x" for flag -bind-addr: port must be a number from 1 to 65535');
    rejects(['-peers', 'a:1,b'], 'invalid value "a:1,b" for flag -peers: address must be host:port (missing port)');
  });

  test('URLs: scheme, host:port, no path', () => {
    rejects(
      ['--advertise-client-urls', 'ftp://h:1'],
      'invalid value "ftp://h:1" for flag -advertise-client-urls: URL scheme must be http or https, not "ftp"',
    );
    rejects(
      ['--listen-client-urls', 'http://h:1/v2'],
      'invalid value "http://h:1/v2" for flag -listen-client-urls: URL must not contain a path, query or fragment',
    );
    rejects(
      ['--listen-peer-urls', 'http://h'],
      'invalid value "http://h" for flag -listen-peer-urls: address must be host:port (missing port)',
    );
    rejects(['--initial-advertise-peer-urls', 'h:1'], 'invalid value "h:1" for flag -initial-advertise-peer-urls: URL must look like http://host:port');
    rejects(['--listen-client-urls', 'https://h:1'], 'invalid value "https://h:1" for flag -listen-client-urls: https needs -cert-file/-key-file');
    rejects(['-discovery', 'discovery.etcd.io/abc'], 'invalid value "discovery.etcd.io/abc" for flag -discovery: not a URL');
    rejects(['-discovery', 'ftp://d/abc'], 'invalid value "ftp://d/abc" for flag -discovery: URL scheme must be http or https');
  });

  test('cluster bootstrap values', () => {
    rejects(['--initial-cluster-state', 'other'], 'invalid value "other" for flag -initial-cluster-state: must be "new" or "existing"');
    rejects(['--initial-cluster', 'http://h:1'], 'invalid value "http://h:1" for flag -initial-cluster: "http://h:1" is not name=url');
    rejects(['--initial-cluster', 'a=h:1'], 'invalid value "a=h:1" for flag -initial-cluster: URL must look like http://host:port');
  });

  test('names, CORS origins and trace', () => {
    rejects(['-name', 'a/b'], 'invalid value "a/b" for flag -name: a name must not contain "/"');
    rejects(['-cors', 'example.com'], 'invalid value "example.com" for flag -cors: CORS origin "example.com" must be "*" or scheme://host[:port]');
    rejects(['-trace', 'x'], 'invalid value "x" for flag -trace: only "*" (every trace endpoint) is supported');
  });

  test('TLS files must come together', () => {
    rejects(['-cert-file', '/c'], '-cert-file and -key-file must be given together (only flag -cert-file is set)');
    rejects(['-peer-key-file', '/k'], '-peer-cert-file and -peer-key-file must be given together (only flag -peer-key-file is set)');
    rejects(['-ca-file', '/ca'], 'flag -ca-file needs -cert-file and -key-file as well');
    rejects(['--client-cert-auth'], '-client-cert-auth needs -cert-file, -key-file and -trusted-ca-file');
    rejects(['--peer-client-cert-auth', '--peer-cert-file=/p', '--peer-key-file=/k'], '-peer-client-cert-auth needs -peer-trusted-ca-file');
  });

  test('old and new forms of one setting in one source are refused', () => {
    rejects(['-addr', 'h:1', '--advertise-client-urls', 'http://h:1'], 'Set only one of flags -addr and -advertise-client-urls');
    rejects(['--listen-client-urls', 'http://h:1', '-bind-addr', 'h'], 'Set only one of flags -listen-client-urls and -bind-addr');
    rejects(['-s', 'h:1', '--initial-advertise-peer-urls', 'http://h:1'], 'Set only one of flags -peer-addr and -initial-advertise-peer-urls');
    rejects(['-peer-bind-addr', 'h', '--listen-peer-urls', 'http://h:1'], 'Set only one of flags -peer-bind-addr and -listen-peer-urls');
    rejects(['-peer-heartbeat-interval', '10', '--heartbeat-interval', '10'], 'Set only one of flags -peer-heartbeat-interval and -heartbeat-interval');
    rejects(['--election-timeout', '500', '-peer-election-timeout', '500'], 'Set only one of flags -election-timeout and -peer-election-timeout');
    rejects(['-peers', 'h:1', '-peers-file', '/etc/peers'], 'Set only one of flags -peers and -peers-file');
    rejects([], 'Set only one of environment variables ETCD_ADDR and ETCD_ADVERTISE_CLIENT_URLS', {
      ETCD_ADDR: 'h:1',
      ETCD_ADVERTISE_CLIENT_URLS: 'http://h:1',
    });
  });
});

describe('listen and advertise addresses', () => {
  test('-addr only: advertise and listen there (the member listens only where told)', () => {
    const result = config(['-addr', '10.1.1.1:4001', '-peer-addr', '10.1.1.1:7001']);
    assert.deepEqual(result.listenClientUrls, ['http://10.1.1.1:4001']);
    assert.deepEqual(result.listenPeerUrls, ['http://10.1.1.1:7001']);
  });

  test('-bind-addr without a port takes the advertised port (0.4.6)', () => {
    const result = config(['-addr', '10.1.1.1:4100', '-bind-addr', '0.0.0.0', '-peer-addr', '10.1.1.1:7100', '-peer-bind-addr', '10.1.1.1']);
    assert.deepEqual(result.advertiseClientUrls, ['http://10.1.1.1:4100']);
    assert.deepEqual(result.listenClientUrls, ['http://0.0.0.0:4100']);
    assert.deepEqual(result.listenPeerUrls, ['http://10.1.1.1:7100']);
  });

  test('-bind-addr :port listens on every interface; IPv6 forms', () => {
    assert.deepEqual(config(['-bind-addr', ':4200']).listenClientUrls, ['http://0.0.0.0:4200']);
    assert.deepEqual(config(['-bind-addr', '[::1]:4300']).listenClientUrls, ['http://[::1]:4300']);
    assert.deepEqual(config(['-bind-addr', '::']).listenClientUrls, ['http://[::]:4001']);
    assert.deepEqual(config(['-bind-addr', '::']).advertiseClientUrls, ['http://127.0.0.1:4001']);
    assert.deepEqual(config(['-addr', '[fe80::1]:4001']).advertiseClientUrls, ['http://[fe80::1]:4001']);
  });

  test('advertise URLs with -bind-addr host only: port from the first advertised URL', () => {
    const result = config(['--advertise-client-urls', 'http://10.0.0.1:2379,http://10.0.0.1:4001', '-bind-addr', '0.0.0.0']);
    assert.deepEqual(result.listenClientUrls, ['http://0.0.0.0:2379']);
  });

  test('TLS switches -addr and -peers to https, per side', () => {
    const result = config(['-cert-file=/c', '-key-file=/k', '-addr=h:1', '-peer-addr=h:2', '-peers=h:3']);
    assert.deepEqual(result.advertiseClientUrls, ['https://h:1']);
    assert.deepEqual(result.advertisePeerUrls, ['http://h:2']);
    assert.deepEqual(result.peers, ['http://h:3']);
    const peerTls = config(['-peer-cert-file=/c', '-peer-key-file=/k', '-peers=h:3,http://h:4']);
    assert.deepEqual(peerTls.peers, ['https://h:3', 'http://h:4']);
    assert.deepEqual(peerTls.listenPeerUrls, ['https://127.0.0.1:7001']);
  });

  test('empty values mean unset', () => {
    const result = config(['-name=', '-addr=', '-cors=', '-peers=']);
    assert.deepEqual(result, DEFAULTS);
  });
});

describe('environment', () => {
  test("the tutorial's systemd drop-in: ETCD_NAME, ETCD_ADDR, ETCD_PEER_ADDR, ETCD_DISCOVERY", () => {
    const result = config([], {
      ETCD_ADDR: '10.132.248.118:4001',
      ETCD_DISCOVERY: 'https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c',
      ETCD_NAME: '921a7241c31a499a97d43f785108b17c',
      ETCD_PEER_ADDR: '10.132.248.118:7001',
    });
    expectFields(result, {
      name: '921a7241c31a499a97d43f785108b17c',
      dataDir: '921a7241c31a499a97d43f785108b17c.etcd',
      advertiseClientUrls: ['http://10.132.248.118:4001'],
      listenClientUrls: ['http://10.132.248.118:4001'],
      advertisePeerUrls: ['http://10.132.248.118:7001'],
      listenPeerUrls: ['http://10.132.248.118:7001'],
      discovery: 'https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c',
      warnings: [],
    }, 'drop-in');
  });

  test('every option is settable by its ETCD_ variable', () => {
    for (const spec of OPTIONS) {
      const sample = SAMPLES[spec.name];
      assert.ok(sample !== undefined);
      for (const variable of spec.env) {
        const result = config(sample.extra ?? [], { [variable]: sample.value ?? 'true' }, PEERS_FILE);
        expectFields(result, sample.expect, variable);
      }
    }
  });

  test('0.4.6 and documented spellings: ETCD_SNAPSHOTCOUNT, ETCD_SNAPSHOT_COUNT, ETCD_CORS_ORIGINS', () => {
    assert.equal(config([], { ETCD_SNAPSHOTCOUNT: '11' }).snapshotCount, 11);
    assert.equal(config([], { ETCD_SNAPSHOT_COUNT: '12' }).snapshotCount, 12);
    assert.equal(config([], { ETCD_SNAPSHOTCOUNT: '13', ETCD_SNAPSHOT_COUNT: '13' }).snapshotCount, 13);
    rejects([], 'Set only one of ETCD_SNAPSHOTCOUNT and ETCD_SNAPSHOT_COUNT (they are the same setting)', {
      ETCD_SNAPSHOTCOUNT: '13',
      ETCD_SNAPSHOT_COUNT: '14',
    });
    assert.deepEqual(config([], { ETCD_CORS_ORIGINS: 'http://a:1, http://b:2' }).corsOrigins, ['http://a:1', 'http://b:2']);
  });

  test('booleans: anything but 0/false is true; empty is unset', () => {
    assert.equal(config([], { ETCD_SNAPSHOT: 'false' }).snapshot, false);
    assert.equal(config([], { ETCD_SNAPSHOT: 'FALSE' }).snapshot, false);
    assert.equal(config([], { ETCD_SNAPSHOT: '0' }).snapshot, false);
    assert.equal(config([], { ETCD_SNAPSHOT: 'no' }).snapshot, true);
    assert.equal(config([], { ETCD_VERBOSE: 'yes' }).verbosity, 1);
    assert.equal(config([], { ETCD_VERY_VERBOSE: '1', ETCD_VERBOSE: '0' }).verbosity, 2);
    assert.equal(config([], { ETCD_FORCE_NEW_CLUSTER: '' }).forceNewCluster, false);
  });

  test('lists split on commas', () => {
    assert.deepEqual(config([], { ETCD_PEERS: 'a:1,b:2,,c:3' }).peers, ['http://a:1', 'http://b:2', 'http://c:3']);
  });

  test('bad values name the variable', () => {
    rejects([], 'invalid value "lots" for ETCD_SNAPSHOTCOUNT: not an integer', { ETCD_SNAPSHOTCOUNT: 'lots' });
    rejects([], 'invalid value "10.0.0.1" for ETCD_ADDR: address must be host:port (missing port)', { ETCD_ADDR: '10.0.0.1' });
    rejects([], 'invalid value "maybe" for ETCD_INITIAL_CLUSTER_STATE: must be "new" or "existing"', {
      ETCD_INITIAL_CLUSTER_STATE: 'maybe',
    });
  });

  test('unrecognised ETCD_ variables are warned about, others ignored', () => {
    const result = config([], { ETCD_NMAE: 'x', ETCDCTL_PEERS: 'y', PATH: '/bin' });
    assert.deepEqual(result.warnings, ['unrecognized environment variable ETCD_NMAE ignored']);
  });
});

const FULL_TOML = `
name = "filenode"
data_dir = "/srv/etcd"
addr = "10.0.0.5:4001"
bind_addr = "0.0.0.0"
ca_file = "/ca.crt"
cert_file = "/c.crt"
key_file = "/c.key"
cors = ["http://a.example", "*"]
discovery = "http://disc:4001/v2/keys/_etcd/registry/tok"
peers = ["10.0.0.6:7001", "10.0.0.7:7001"]
http_read_timeout = 10.5
http_write_timeout = 20
max_result_buffer = 10
max_retry_attempts = 5
retry_interval = 3.5
snapshot = false
snapshot_count = 100
verbose = true
very_verbose = true
very_very_verbose = false
trace = "*"
graphite_host = "g:2003"

[peer]
addr = "10.0.0.5:7001"
bind_addr = "10.0.0.5"
ca_file = "/pca.crt"
cert_file = "/p.crt"
key_file = "/p.key"
heartbeat_interval = 30
election_timeout = 300

[cluster]
active_size = 5
remove_delay = 60.5
sync_interval = 2
`;

describe('config file (TOML)', () => {
  test('every 0.4.6 key, with [peer] and [cluster] tables', () => {
    const result = config(['-config', '/etc/my.toml'], {}, { '/etc/my.toml': FULL_TOML });
    assert.deepEqual(result, {
      ...DEFAULTS,
      name: 'filenode',
      dataDir: '/srv/etcd',
      advertiseClientUrls: ['https://10.0.0.5:4001'],
      listenClientUrls: ['https://0.0.0.0:4001'],
      advertisePeerUrls: ['https://10.0.0.5:7001'],
      listenPeerUrls: ['https://10.0.0.5:7001'],
      peers: ['https://10.0.0.6:7001', 'https://10.0.0.7:7001'],
      discovery: 'http://disc:4001/v2/keys/_etcd/registry/tok',
      snapshot: false,
      snapshotCount: 100,
      heartbeatIntervalMs: 30,
      electionTimeoutMs: 300,
      corsOrigins: ['http://a.example', '*'],
      clusterActiveSize: 5,
      clusterActiveSizeExplicit: true,
      clusterRemoveDelaySec: 60.5,
      clusterSyncIntervalSec: 2,
      maxRetryAttempts: 5,
      retryIntervalSec: 3.5,
      httpReadTimeoutSec: 10.5,
      httpWriteTimeoutSec: 20,
      clientTls: { certFile: '/c.crt', keyFile: '/c.key', caFile: '/ca.crt', clientCertAuth: true },
      peerTls: { certFile: '/p.crt', keyFile: '/p.key', caFile: '/pca.crt', clientCertAuth: true },
      verbosity: 2,
      trace: true,
      warnings: ['key "graphite_host" in /etc/my.toml is not supported by this server; ignored'],
    });
  });

  test('peers_file and a string for a list key', () => {
    const files = { '/f.toml': 'peers_file = "/etc/peers"\ncors = "http://x:1,http://y:2"\n', ...PEERS_FILE };
    const result = config(['--config=/f.toml'], {}, files);
    assert.deepEqual(result.peers, ['http://10.0.0.2:7001', 'http://10.0.0.3:7001']);
    assert.deepEqual(result.corsOrigins, ['http://x:1', 'http://y:2']);
  });

  test('/etc/etcd/etcd.conf is read when it exists, below -config', () => {
    const files = { [SYSTEM_CONFIG_PATH]: 'name = "sys"\nsnapshot_count = 7\n', '/c.toml': 'name = "cfg"\n' };
    assert.equal(config([], {}, files).name, 'sys');
    const both = config(['-config', '/c.toml'], {}, files);
    assert.equal(both.name, 'cfg');
    assert.equal(both.snapshotCount, 7);
  });

  test('a missing -config file, a broken file, wrong types', () => {
    rejects(['-config', '/nope.toml'], 'config file /nope.toml does not exist');
    rejects(['-config='], 'flag -config needs a file path');
    assert.throws(() => parse(['-config', '/b.toml'], {}, { '/b.toml': 'name = \n' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^cannot parse config file \/b\.toml: /);
      return true;
    });
    rejects(['-config', '/t.toml'], 'invalid value "10" for key "snapshot_count" in /t.toml: expected an integer', {}, {
      '/t.toml': 'snapshot_count = "10"\n',
    });
    rejects(['-config', '/t.toml'], 'invalid value "1.5" for key "peer.heartbeat_interval" in /t.toml: expected an integer', {}, {
      '/t.toml': '[peer]\nheartbeat_interval = 1.5\n',
    });
    rejects(['-config', '/t.toml'], 'invalid value "yes" for key "snapshot" in /t.toml: expected true or false', {}, {
      '/t.toml': 'snapshot = "yes"\n',
    });
    rejects(['-config', '/t.toml'], 'invalid value "[1,2]" for key "peers" in /t.toml: expected an array of strings', {}, {
      '/t.toml': 'peers = [1, 2]\n',
    });
    rejects(['-config', '/t.toml'], 'invalid value "10.0.0.1" for key "peer.addr" in /t.toml: address must be host:port (missing port)', {}, {
      '/t.toml': '[peer]\naddr = "10.0.0.1"\n',
    });
  });

  test('unknown keys are ignored with a warning (0.4.6 ignored them silently)', () => {
    const result = config(['-config', '/u.toml'], {}, { '/u.toml': 'nmae = "x"\n[peer]\nport = 1\n[other]\na = 1\n' });
    assert.deepEqual(result.warnings, [
      'unknown key "nmae" in config file /u.toml ignored',
      'unknown key "peer.port" in config file /u.toml ignored',
      'unknown key "other" in config file /u.toml ignored',
    ]);
  });

  test('without injected readFile: real files are read; a missing or unreadable one is a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-config-'));
    try {
      const file = join(dir, 'etcd.conf');
      writeFileSync(file, 'name = "fromdisk"\npeers_file = "' + join(dir, 'peers') + '"\n');
      writeFileSync(join(dir, 'peers'), 'h1:7001,h2:7001');
      const command = parseEtcdCommand(['-config', file], {});
      assert.equal(command.kind, 'run');
      if (command.kind === 'run') {
        assert.equal(command.config.name, 'fromdisk');
        assert.deepEqual(command.config.peers, ['http://h1:7001', 'http://h2:7001']);
      }
      assert.throws(() => parseEtcdCommand(['-config', join(dir, 'none')], {}), {
        name: 'ConfigError',
        message: `config file ${join(dir, 'none')} does not exist`,
      });
      assert.throws(() => parseEtcdCommand(['-config', dir], {}), { name: 'ConfigError', message: `cannot read ${dir}: EISDIR` });
      assert.throws(() => parseEtcdCommand(['-peers-file', join(dir, 'nope')], {}), {
        name: 'ConfigError',
        message: `invalid value "${join(dir, 'nope')}" for flag -peers-file: no such file`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without an injected hostname the name is the host name', () => {
    const command = parseEtcdCommand([], {}, { readFile: () => null });
    assert.equal(command.kind === 'run' ? command.config.name : '', hostname());
  });

  test('peers and peers_file in one file are refused', () => {
    rejects(['-config', '/p.toml'], 'Set only one of keys peers_file and peers in /p.toml', {}, {
      '/p.toml': 'peers_file = "/etc/peers"\npeers = ["a:1"]\n',
      ...PEERS_FILE,
    });
  });
});

describe('precedence: flags > env > -config file > /etc/etcd/etcd.conf > defaults', () => {
  const files = {
    [SYSTEM_CONFIG_PATH]: 'name = "sys"\nsnapshot_count = 1\nmax_retry_attempts = 1\n[cluster]\nactive_size = 4\n',
    '/c.toml': 'name = "file"\nsnapshot_count = 2\n[cluster]\nactive_size = 5\n',
  };

  test('each layer overrides the one below it, setting by setting', () => {
    const result = config(['-config', '/c.toml', '-name', 'flag'], { ETCD_NAME: 'env', ETCD_SNAPSHOTCOUNT: '3' }, files);
    assert.equal(result.name, 'flag');
    assert.equal(result.snapshotCount, 3);
    assert.equal(result.clusterActiveSize, 5);
    assert.equal(result.maxRetryAttempts, 1);
    assert.equal(result.clusterSyncIntervalSec, 5);
  });

  test('env beats the file; flags beat env', () => {
    assert.equal(config(['-config', '/c.toml'], { ETCD_NAME: 'env' }, files).name, 'env');
    assert.equal(config(['-name=flag'], { ETCD_NAME: 'env' }).name, 'flag');
    assert.equal(config(['-snapshot=true'], { ETCD_SNAPSHOT: 'false' }).snapshot, true);
    assert.equal(config(['-vv=false'], { ETCD_VERY_VERBOSE: '1' }).verbosity, 0);
  });

  test('a higher source using the other form of a setting replaces the lower form, without conflict', () => {
    const result = config(['--advertise-client-urls', 'http://10.9.9.9:2379'], { ETCD_ADDR: '10.0.0.1:4001' });
    assert.deepEqual(result.advertiseClientUrls, ['http://10.9.9.9:2379']);
    const fromEnv = config(['-config', '/c.toml'], { ETCD_HEARTBEAT_INTERVAL: '20' }, {
      '/c.toml': '[peer]\nheartbeat_interval = 30\nelection_timeout = 400\n',
    });
    assert.equal(fromEnv.electionTimeoutMs, 400);
    assert.equal(fromEnv.heartbeatIntervalMs, 20);
    const fileOverEnv = config(['-peers', 'x:1'], { ETCD_PEERS_FILE: '/missing' });
    assert.deepEqual(fileOverEnv.peers, ['http://x:1']);
  });
});

describe('warnings', () => {
  test('2.x/3.4-only options are accepted with a warning; --enable-v2 silently', () => {
    assert.deepEqual(config(['--enable-v2']).warnings, []);
    assert.deepEqual(config(['--enable-v2=true', '--proxy', 'off', '--debug']).warnings, [
      'flag -proxy is not supported by this server; ignored',
      'flag -debug is not supported by this server; ignored',
    ]);
    assert.deepEqual(config(['--enable-v2=false']).warnings, [
      'flag -enable-v2=false ignored: this server always serves the v2 API',
    ]);
    assert.deepEqual(config([], { ETCD_LOG_LEVEL: 'debug' }).warnings, ['ETCD_LOG_LEVEL is not supported by this server; ignored']);
    assert.deepEqual(config(['-cpuprofile', '/tmp/p']).warnings, ['flag -cpuprofile is not supported by this server; ignored']);
  });
});

describe('help and version', () => {
  test('-version, --version: etcd version 0.4.6', () => {
    for (const flag of ['-version', '--version', '-version=true']) {
      assert.deepEqual(parse([flag]), { kind: 'version', text: 'etcd version 0.4.6' });
    }
  });

  test('-h, -help, --help: the usage, without reading files or env', () => {
    for (const flag of ['-h', '-help', '--help', '--h']) {
      const command = parse(['-config', '/nope', flag], { ETCD_SNAPSHOTCOUNT: 'bad' });
      assert.equal(command.kind, 'help');
    }
    assert.equal(parse(['-h', '-version']).kind, 'version');
    rejects(['-bogus', '-h'], 'flag provided but not defined: -bogus');
  });

  test('the usage starts like 0.4.6 and lists every flag and alias we accept', () => {
    const command = parse(['-h']);
    assert.equal(command.kind, 'help');
    const text = command.kind === 'help' ? command.text : '';
    assert.ok(
      text.startsWith('etcd version 0.4.6\n\nUsage:\n  etcd -name <name>\n  etcd -name <name> [-data-dir=<path>]\n' +
        '  etcd -h | -help\n  etcd -version\n\nOptions:\n  -h -help                        Show this screen.\n'),
      text.slice(0, 300),
    );
    for (const spec of OPTIONS) {
      assert.match(text, new RegExp(`^  (-f )?--?${spec.name}(=|\\s)`, 'm'), `usage lacks -${spec.name}`);
      for (const alias of spec.aliases) {
        assert.ok(text.includes(`\n  -${alias} `), `usage lacks alias -${alias}`);
      }
    }
    assert.ok(text.includes('\n  -config=<path> '));
    assert.ok(text.includes('\n  -f -force '));
  });
});
