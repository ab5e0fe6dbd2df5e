import { parseArgs } from 'node:util';
import type { MemifOptions } from '../index';

/** A command line that cannot be run: exit status 2 with this one-line reason. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The options every command shares (`rx-memif <command> --help` lists them). */
export const commonOptions = {
  role: { type: 'string' },
  id: { type: 'string' },
  socket: { type: 'string' },
  bsize: { type: 'string' },
  rsize: { type: 'string' },
  secret: { type: 'string' },
  mac: { type: 'string' },
  mode: { type: 'string' },
  queues: { type: 'string' },
  'zero-copy': { type: 'string' },
  'socket-mode': { type: 'string' },
  'socket-group': { type: 'string' },
  'allow-uid': { type: 'string', multiple: true },
  'allow-gid': { type: 'string', multiple: true },
  'rx-mode': { type: 'string' },
  'tx-high-water': { type: 'string' },
  secs: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const commonHelp = `Interface options (shared by every command):
  --role server|client     server listens, client connects (master|slave accepted) [client]
  --id N                   interface id, 0..4294967295 [0]
  --socket PATH|@NAME      control socket; @NAME is an abstract name [/tmp/memif.sock]
  --bsize N                buffer size in bytes, 1..65535 [2048]
  --rsize N                log2 of the ring size, 1..14 [10]
  --secret S               shared secret, at most 23 bytes [none]
  --mac XX:XX:XX:XX:XX:XX  this interface's MAC address [random 02:fe:..]
  --mode M                 ethernet|ip|punt-inject [ethernet]
  --queues N               queue pairs (rx and tx queues each), 1..255 [1]
  --zero-copy yes|no       client zero-copy transmit [no]
Who may connect:
  --socket-mode MODE       server: socket file mode, octal (0660), set at bind [umask]
  --socket-group G         server: socket file group, a name or gid, set at bind [ours]
  --allow-uid N            only a peer with this uid may connect; repeatable [anyone]
  --allow-gid N            only a peer with this primary gid may connect; repeatable [anyone]
  --rx-mode M              interrupt|polling|adaptive [adaptive]
  --tx-high-water N        backlogged tx packets at which receiving pauses [1024]
Run options:
  --secs N                 run N seconds, then close cleanly [until SIGINT/SIGTERM]
  --json                   one JSON object per line on stdout
  -h, --help               this help`;

/** An integer option in `min..max` (`1e6` is fine), or undefined when absent. */
export const integerOption = (
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined => {
  if (text === undefined) return undefined;
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`,
    );
  return n;
};

export type CommonValues = {
  [K in keyof typeof commonOptions]?: (typeof commonOptions)[K] extends { multiple: true }
    ? string[]
    : (typeof commonOptions)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** `--socket-mode`: octal permission bits (`0660`, `660` or `0o660`). */
const socketMode = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const digits = text.trim().replace(/^0o/i, '');
  const n = /^[0-7]{1,5}$/.test(digits) ? parseInt(digits, 8) : NaN;
  if (!(n >= 0 && n <= 0o7777))
    throw new UsageError(
      `--socket-mode must be octal permission bits like 0660, got ${JSON.stringify(text)}`,
    );
  return n;
};

/** `--socket-group`: a gid when numeric, else a group name. */
const socketGroup = (text: string | undefined): number | string | undefined =>
  text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : text;

/** A repeatable id flag (`--allow-uid 0 --allow-uid 1000`). */
const idList = (name: string, texts: string[] | undefined): number[] | undefined =>
  texts?.map((t) => integerOption(name, t, 0, 0xfffffffe) as number);

/** Maps the shared flags to `memif()` options; range checks are left to the options codec. */
export const interfaceOptions = (v: CommonValues): MemifOptions => {
  const zeroCopy = v['zero-copy'];
  if (zeroCopy !== undefined && zeroCopy !== 'yes' && zeroCopy !== 'no')
    throw new UsageError(`--zero-copy must be yes or no, got ${JSON.stringify(zeroCopy)}`);
  const queues = integerOption('queues', v.queues, 1, 255);
  const options: Record<string, unknown> = {
    role: v.role,
    id: integerOption('id', v.id, 0, 0xffffffff),
    socket: v.socket,
    bufferSize: integerOption('bsize', v.bsize, 1, 65535),
    log2RingSize: integerOption('rsize', v.rsize, 1, 14),
    secret: v.secret,
    mac: v.mac,
    mode: v.mode,
    rxQueues: queues,
    txQueues: queues,
    zeroCopy: zeroCopy === undefined ? undefined : zeroCopy === 'yes',
    socketMode: socketMode(v['socket-mode']),
    socketGroup: socketGroup(v['socket-group']),
    allowUids: idList('allow-uid', v['allow-uid']),
    allowGids: idList('allow-gid', v['allow-gid']),
    rxMode: v['rx-mode'],
    txHighWater: integerOption('tx-high-water', v['tx-high-water'], 1, 16_777_216),
  };
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options as MemifOptions;
};

/** `--secs`: a positive number of seconds, or undefined (run until a signal). */
export const runSeconds = (v: CommonValues): number | undefined => {
  if (v.secs === undefined) return undefined;
  const n = Number(v.secs);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--secs must be a positive number, got ${JSON.stringify(v.secs)}`);
  return n;
};

/** What a command's parsed flags look like: the shared ones typed, its own as strings/booleans. */
export type ParsedValues = CommonValues & Record<string, string | string[] | boolean | undefined>;

/** Parses a command's arguments: the shared options plus its own. */
export const parse = (
  args: string[],
  own: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>,
): { values: ParsedValues } => {
  try {
    const { values } = parseArgs({
      args,
      options: { ...commonOptions, ...own },
      strict: true,
      allowPositionals: false,
    });
    return { values: values as ParsedValues };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
};
