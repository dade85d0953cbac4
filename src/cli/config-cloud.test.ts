/**
 * `etcd --cloud-config FILE` (the tutorial's CoreOS configuration): the snippet as the tutorial
 * prints it, `$private_ipv4`/`$public_ipv4` from flags or COREOS_* variables, every key named as
 * its flag without the dash, precedence between the sources, and the errors' exact words. Also
 * the tutorial's systemd drop-in (the ETCD_* variables CoreOS writes from that file).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEtcdCommand } from './config.js';
import { ConfigError, type EtcdConfig } from './config-types.js';

type Files = Readonly<Record<string, string>>;
type Env = Readonly<Record<string, string | undefined>>;

function config(argv: readonly string[], env: Env = {}, files: Files = {}): EtcdConfig {
  const command = parseEtcdCommand(argv, env, { hostname: 'testhost', readFile: (path) => files[path] ?? null });
  assert.equal(command.kind, 'run');
  if (command.kind !== 'run') throw new Error('unreachable');
  return command.config;
}

function rejects(argv: readonly string[], message: string, env: Env = {}, files: Files = {}): void {
  assert.throws(
    () => parseEtcdCommand(argv, env, { hostname: 'testhost', readFile: (path) => files[path] ?? null }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

/** The tutorial's snippet (its `. . .` line stands for the rest of a real file). */
const TUTORIAL = `#cloud-config

coreos:
  etcd:
    discovery: https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c
    addr: $private_ipv4:4001
    peer-addr: $private_ipv4:7001
`;

const FILE = '/var/lib/coreos-install/user_data';

function fields(result: EtcdConfig, keys: ReadonlyArray<keyof EtcdConfig>): Partial<EtcdConfig> {
  return Object.fromEntries(keys.map((key) => [key, result[key]]));
}

const ADDRESSES: ReadonlyArray<keyof EtcdConfig> = ['discovery', 'advertiseClientUrls', 'listenClientUrls', 'advertisePeerUrls', 'listenPeerUrls'];

describe('--cloud-config', () => {
  test("the tutorial's snippet with --private-ipv4", () => {
    const result = config(['--cloud-config', FILE, '--private-ipv4', '10.132.248.118'], {}, { [FILE]: TUTORIAL });
    assert.deepEqual(fields(result, [...ADDRESSES, 'name', 'warnings']), {
      discovery: 'https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c',
      advertiseClientUrls: ['http://10.132.248.118:4001'],
      listenClientUrls: ['http://10.132.248.118:4001'],
      advertisePeerUrls: ['http://10.132.248.118:7001'],
      listenPeerUrls: ['http://10.132.248.118:7001'],
      name: 'testhost',
      warnings: [],
    });
  });

  test('$private_ipv4 from COREOS_PRIVATE_IPV4; the flag wins over it; -cloud-config=FILE with one dash', () => {
    const fromEnv = config([`-cloud-config=${FILE}`], { COREOS_PRIVATE_IPV4: '10.0.0.7' }, { [FILE]: TUTORIAL });
    assert.deepEqual(fromEnv.advertisePeerUrls, ['http://10.0.0.7:7001']);
    const flagWins = config(['--cloud-config', FILE, '--private-ipv4=10.0.0.8'], { COREOS_PRIVATE_IPV4: '10.0.0.7' }, { [FILE]: TUTORIAL });
    assert.deepEqual(flagWins.advertisePeerUrls, ['http://10.0.0.8:7001']);
  });

  test('$public_ipv4 from --public-ipv4 or COREOS_PUBLIC_IPV4, beside $private_ipv4', () => {
    const text = `#cloud-config\ncoreos:\n  etcd:\n    addr: $public_ipv4:4001\n    bind-addr: $private_ipv4\n    peer-addr: $private_ipv4:7001\n`;
    const result = config(['--cloud-config', FILE, '--public-ipv4', '203.0.113.9'], { COREOS_PRIVATE_IPV4: '10.0.0.9' }, { [FILE]: text });
    assert.deepEqual(result.advertiseClientUrls, ['http://203.0.113.9:4001']);
    assert.deepEqual(result.listenClientUrls, ['http://10.0.0.9:4001']);
    const fromEnv = config(['--cloud-config', FILE], { COREOS_PRIVATE_IPV4: '10.0.0.9', COREOS_PUBLIC_IPV4: '203.0.113.10' }, { [FILE]: text });
    assert.deepEqual(fromEnv.advertiseClientUrls, ['http://203.0.113.10:4001']);
  });

  test('a variable nobody set is an error naming the key, the flag and the environment variable', () => {
    rejects(['--cloud-config', FILE], `key "coreos.etcd.addr" in ${FILE} uses $private_ipv4, but neither --private-ipv4 nor COREOS_PRIVATE_IPV4 is set`, {}, { [FILE]: TUTORIAL });
    const text = `#cloud-config\ncoreos:\n  etcd:\n    addr: $public_ipv4:4001\n`;
    rejects(['--cloud-config', FILE, '--private-ipv4', '10.0.0.1'], `key "coreos.etcd.addr" in ${FILE} uses $public_ipv4, but neither --public-ipv4 nor COREOS_PUBLIC_IPV4 is set`, {}, { [FILE]: text });
  });

  test('every kind of flag: strings as written (no number guessing), ints, floats, booleans, lists, dash or underscore keys', () => {
    const text = [
      '#cloud-config',
      'hostname: coreos-1',
      'coreos:',
      '  units:',
      '    - name: etcd.service',
      '      command: start',
      '  etcd:',
      '    name: 1e5',
      '    data-dir: /var/lib/etcd',
      '    peers: [10.0.0.2:7001, "10.0.0.3:7001"]',
      '    snapshot: false',
      '    snapshot_count: 500',
      '    cluster-active-size: 5',
      '    cluster-remove-delay: 60.5',
      '    retry-interval: 0.5',
      '    cors: "http://a.example,*"',
      '',
    ].join('\n');
    const result = config(['--cloud-config', FILE], {}, { [FILE]: text });
    assert.deepEqual(
      fields(result, ['name', 'dataDir', 'peers', 'snapshot', 'snapshotCount', 'clusterActiveSize', 'clusterActiveSizeExplicit', 'clusterRemoveDelaySec', 'retryIntervalSec', 'corsOrigins']),
      {
        name: '1e5',
        dataDir: '/var/lib/etcd',
        peers: ['http://10.0.0.2:7001', 'http://10.0.0.3:7001'],
        snapshot: false,
        snapshotCount: 500,
        clusterActiveSize: 5,
        clusterActiveSizeExplicit: true,
        clusterRemoveDelaySec: 60.5,
        retryIntervalSec: 0.5,
        corsOrigins: ['http://a.example', '*'],
      },
    );
  });

  test('precedence: flags > env > --cloud-config > -config file', () => {
    const toml = 'name = "from-toml"\naddr = "10.0.0.1:4001"\nsnapshot_count = 7\ndiscovery = "http://toml/abc"\n';
    const cloud = '#cloud-config\ncoreos:\n  etcd:\n    name: from-cloud\n    addr: 10.0.0.2:4001\n    discovery: http://cloud/abc\n';
    const files = { '/etc/my.toml': toml, [FILE]: cloud };
    const layered = config(['-config', '/etc/my.toml', '--cloud-config', FILE], {}, files);
    assert.deepEqual(fields(layered, ['name', 'advertiseClientUrls', 'snapshotCount', 'discovery']), {
      name: 'from-cloud',
      advertiseClientUrls: ['http://10.0.0.2:4001'],
      snapshotCount: 7,
      discovery: 'http://cloud/abc',
    });
    const envOver = config(['-config', '/etc/my.toml', '--cloud-config', FILE], { ETCD_NAME: 'from-env', ETCD_DISCOVERY: 'http://env/abc' }, files);
    assert.deepEqual(fields(envOver, ['name', 'advertiseClientUrls', 'discovery']), {
      name: 'from-env',
      advertiseClientUrls: ['http://10.0.0.2:4001'],
      discovery: 'http://env/abc',
    });
    const flagOver = config(['--cloud-config', FILE, '-name', 'from-flag', '-advertise-client-urls', 'http://10.0.0.3:4001'], { ETCD_NAME: 'from-env' }, files);
    assert.deepEqual(fields(flagOver, ['name', 'advertiseClientUrls']), { name: 'from-flag', advertiseClientUrls: ['http://10.0.0.3:4001'] });
  });

  test('errors: unknown key, bad value, no header, no etcd section, bad YAML, missing file, empty path', () => {
    const withKey = (line: string): string => `#cloud-config\ncoreos:\n  etcd:\n    ${line}\n`;
    rejects(['--cloud-config', FILE], `unknown key "peer-adr" under coreos.etcd in ${FILE}: not an etcd flag (use the flag's name without the dash, e.g. peer-addr)`, {}, { [FILE]: withKey('peer-adr: 10.0.0.1:7001') });
    rejects(['--cloud-config', FILE], `invalid value "many" for key "coreos.etcd.snapshot-count" in ${FILE}: not an integer`, {}, { [FILE]: withKey('snapshot-count: many') });
    rejects(['--cloud-config', FILE], `invalid value "yes" for key "coreos.etcd.snapshot" in ${FILE}: expected true or false`, {}, { [FILE]: withKey('snapshot: yes') });
    rejects(['--cloud-config', FILE], `invalid value "10.0.0.1" for key "coreos.etcd.peer-addr" in ${FILE}: address must be host:port (missing port)`, {}, { [FILE]: withKey('peer-addr: 10.0.0.1') });
    rejects(['--cloud-config', FILE], `key "coreos.etcd.addr" in ${FILE} must be a value or a list of values, not {"host":"a"}`, {}, { [FILE]: withKey('addr: {host: a}') });
    rejects(['--cloud-config', FILE], `${FILE} is not a cloud-config file: its first line must be "#cloud-config"`, {}, { [FILE]: 'coreos:\n  etcd:\n    name: a\n' });
    rejects(['--cloud-config', FILE], `cloud-config file ${FILE} has no coreos.etcd section (a map of etcd flags)`, {}, { [FILE]: '#cloud-config\nhostname: a\n' });
    assert.throws(
      () => config(['--cloud-config', FILE], {}, { [FILE]: '#cloud-config\ncoreos:\n  etcd:\n    name: [a\n' }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith(`cannot parse cloud-config file ${FILE}: `),
    );
    rejects(['--cloud-config', FILE], `cloud-config file ${FILE} does not exist`);
    rejects(['--cloud-config='], 'flag --cloud-config needs a file path');
  });
});

describe("the tutorial's systemd drop-in (20-cloudinit.conf)", () => {
  test('ETCD_ADDR, ETCD_DISCOVERY, ETCD_NAME, ETCD_PEER_ADDR exactly as printed', () => {
    const result = config([], {
      ETCD_ADDR: '10.132.248.118:4001',
      ETCD_DISCOVERY: 'https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c',
      ETCD_NAME: '921a7241c31a499a97d43f785108b17c',
      ETCD_PEER_ADDR: '10.132.248.118:7001',
    });
    assert.deepEqual(fields(result, [...ADDRESSES, 'name', 'dataDir', 'warnings']), {
      discovery: 'https://discovery.etcd.io/dcadc5d4d42328488ecdcd7afae5f57c',
      advertiseClientUrls: ['http://10.132.248.118:4001'],
      listenClientUrls: ['http://10.132.248.118:4001'],
      advertisePeerUrls: ['http://10.132.248.118:7001'],
      listenPeerUrls: ['http://10.132.248.118:7001'],
      name: '921a7241c31a499a97d43f785108b17c',
      dataDir: '921a7241c31a499a97d43f785108b17c.etcd',
      warnings: [],
    });
  });
});
