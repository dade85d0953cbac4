/**
 * The `etcd -h` text, laid out like 0.4.6's usage and generated from the option table so
 * that every flag we accept — 0.4.6 names, their deprecated aliases, 2.x/3.4 names — is listed.
 */
import { OPTIONS, type OptionSpec, type UsageSection } from './config-options.js';

export const ETCD_VERSION = '0.4.6';
export const VERSION_TEXT = `etcd version ${ETCD_VERSION}`;

const SECTION_TITLES: ReadonlyArray<readonly [UsageSection, string]> = [
  ['general', 'Options'],
  ['cluster', 'Cluster Configuration Options'],
  ['client', 'Client Communication Options'],
  ['peer', 'Peer Communication Options'],
  ['other', 'Other Options'],
  ['v2names', 'etcd 2.x / 3.4 Names (same settings, URL forms)'],
  ['ignored', 'Accepted for etcd 2.x / 3.4 Compatibility, Without Effect (a warning is printed)'],
];

const HELP_COLUMN = 34;

/** 2.x/3.4 names are shown with two dashes, as their documentation writes them; both work. */
function flagColumn(spec: OptionSpec): string {
  const dashes = spec.section === 'v2names' || spec.section === 'ignored' ? '--' : '-';
  const names = [...spec.synonyms, spec.name].map((name) => `${dashes}${name}`).join(' ');
  return spec.valueHint === '' ? names : `${names}=${spec.valueHint}`;
}

const LINE_WIDTH = 100;

/** Splits help text into lines that fit between the help column and LINE_WIDTH. */
function wrapHelp(help: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of help.split(' ')) {
    if (current !== '' && HELP_COLUMN + current.length + 1 + word.length > LINE_WIDTH) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  lines.push(current);
  return lines;
}

function line(left: string, help: string): string {
  const indent = ' '.repeat(HELP_COLUMN);
  const padded = `  ${left}`;
  const helpLines = wrapHelp(help);
  const rest = helpLines.slice(1).map((text) => `\n${indent}${text}`).join('');
  if (padded.length < HELP_COLUMN) return `${padded.padEnd(HELP_COLUMN)}${helpLines[0] ?? ''}${rest}`;
  return `${padded}\n${indent}${helpLines[0] ?? ''}${rest}`;
}

function sectionText(section: UsageSection, title: string): string {
  const lines = OPTIONS.filter((spec) => spec.section === section).map((spec) => line(flagColumn(spec), spec.help));
  if (section === 'general') {
    lines.unshift(
      line('-h -help', 'Show this screen.'),
      line('-version', 'Show version.'),
      line('-config=<path>', 'Path to a TOML configuration file (default /etc/etcd/etcd.conf if it exists).'),
      line('--cloud-config=<path>', 'A CoreOS #cloud-config file: its coreos.etcd keys are these flags without the dash.'),
      line('--private-ipv4=<ip>', 'What $private_ipv4 stands for in the cloud-config (default: COREOS_PRIVATE_IPV4).'),
      line('--public-ipv4=<ip>', 'What $public_ipv4 stands for in the cloud-config (default: COREOS_PUBLIC_IPV4).'),
    );
  }
  return `${title}:\n${lines.join('\n')}`;
}

function deprecatedText(): string {
  const lines = OPTIONS.flatMap((spec) => spec.aliases.map((alias) => line(`-${alias}`, `use -${spec.name}`)));
  return `Deprecated Aliases (accepted with a warning):\n${lines.join('\n')}`;
}

const HEADER = `etcd version ${ETCD_VERSION}

Usage:
  etcd -name <name>
  etcd -name <name> [-data-dir=<path>]
  etcd -h | -help
  etcd -version`;

const FOOTER = `Flags take one or two dashes and -flag=value or -flag value; the last of a repeated
flag wins. Every setting can also come from the environment (ETCD_ + the flag name in
capitals with "-" as "_", e.g. ETCD_PEER_ADDR; 0.4.6 spellings such as ETCD_SNAPSHOTCOUNT
too), from a CoreOS cloud-config (peer-addr: <host:port> under coreos: etcd:) or from the
TOML config file (keys as in etcd 0.4.6: peer_addr is "addr" in [peer]).
Precedence: flags, then environment, then --cloud-config, then -config file, then
/etc/etcd/etcd.conf, then defaults.`;

export function etcdUsage(): string {
  const sections = SECTION_TITLES.map(([section, title]) => sectionText(section, title));
  return [HEADER, ...sections, deprecatedText(), FOOTER].join('\n\n');
}
