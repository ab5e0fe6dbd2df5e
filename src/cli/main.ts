import { OptionsError, isMemifError } from '../index';
import { UsageError } from './args';
import { connect, connectHelp } from './commands/connect';
import { echo, echoHelp } from './commands/echo';
import { gen, genHelp } from './commands/gen';
import { sink, sinkHelp } from './commands/sink';
import { respond, respondHelp } from './commands/respond';
import { ping, pingHelp } from './commands/ping';
import { dump, dumpHelp } from './commands/dump';

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { run: Command; summary: string; help: string }> = {
  connect: {
    run: connect,
    summary: 'bring one interface up and print its states',
    help: connectHelp,
  },
  echo: { run: echo, summary: 'send every received frame back', help: echoHelp },
  sink: { run: sink, summary: 'count received frames', help: sinkHelp },
  gen: { run: gen, summary: 'send numbered frames and check what comes back', help: genHelp },
  respond: {
    run: respond,
    summary: 'answer ARP, ping and IPv6 neighbor solicitation for some addresses',
    help: respondHelp,
  },
  ping: {
    run: ping,
    summary: 'ARP for a target, then ping it and print round trips',
    help: pingHelp,
  },
  dump: {
    run: dump,
    summary: 'print a line per received frame, optionally to a pcap file',
    help: dumpHelp,
  },
};

const usage = `Usage: rx-memif <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`rx-memif <command> --help\` for a command's options.`;

/** Runs the CLI; resolves to the exit status. Never throws. */
export const main = async (argv: string[]): Promise<number> => {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`rx-memif: unknown command ${JSON.stringify(name)}\n${usage}\n`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError || e instanceof OptionsError) {
      process.stderr.write(`rx-memif ${name}: ${e.message}\n`);
      return 2;
    }
    const code = isMemifError(e) ? ` (${e.code})` : '';
    process.stderr.write(
      `rx-memif ${name}: ${e instanceof Error ? e.message : String(e)}${code}\n`,
    );
    return 1;
  }
};

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
