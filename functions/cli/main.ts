/**
 * `verifik-reports` / `npm run report`: flags → the same pipeline and mail path the Lambdas run;
 * a first argument `log`, `resend`, `backfill`, `pause` or `resume` selects an operations command.
 * Exit codes (cli/errors.ts, from the error's kind): 0 report complete (manifest written),
 * 2 bad usage or configuration, 3 authentication, 4 Verifik unavailable or the read could not be
 * completed, 5 report complete and stored but its mail not sent, 130/143 stopped by SIGINT/SIGTERM
 * (nothing written), 1 anything else.
 */
import { type CliOptions, parseCliArgs, USAGE, UsageError } from './args.js';
import { COMMAND_USAGE, type CommandName, isCommand, parseCommandArgs } from './commands.js';
import {
  CliInterruptedError,
  describeError,
  EXIT,
  EXIT_BY_SIGNAL,
  exitCodeFor,
  type StopSignal,
} from './errors.js';
import { type CliIo, defaultIo } from './io.js';
import { terminalText } from './output.js';
import { VERSION } from './version.js';

export type { CliIo, CliOptions };
export { EXIT, parseCliArgs, UsageError };

/** Runs the command and returns the exit code; never throws. */
export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (isCommand(first)) return runCommand(first, rest, io);
  let options: ReturnType<typeof parseCliArgs>;
  try {
    options = parseCliArgs(argv, io.env, io.now());
  } catch (err) {
    // One line that names the flag and what to fix; --help is there for the rest.
    io.stderr.write(`verifik-reports: ${terminalText((err as Error).message)}\n`);
    return EXIT.usage;
  }
  if (options === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (options === 'version') {
    io.stdout.write(`verifik-reports ${VERSION}\n`);
    return EXIT.ok;
  }
  const token = io.env.VERIFIK_TOKEN;
  if (!token) {
    io.stderr.write(
      'verifik-reports: VERIFIK_TOKEN is not set. Export your Verifik API token (see the README, "Configuration"), ' +
        'or run `npm start` for a demo against the embedded fake API.\n',
    );
    return EXIT.usage;
  }
  // SIGINT/SIGTERM abort the run: the read stops and the sink removes what it wrote (a local
  // `<id>.partial/`, S3 uploads), then the command exits 130/143.
  const controller = new AbortController();
  const stopped = (): StopSignal | null =>
    controller.signal.reason instanceof CliInterruptedError ? controller.signal.reason.signal : null;
  const removeHandlers = io.onStopSignal?.((signal) => controller.abort(new CliInterruptedError(signal)));
  try {
    const { executeCliReport, mailNotSentLine } = await import('./run.js');
    const { result, mail, scopes } = await executeCliReport(options, {
      token,
      io,
      signal: controller.signal,
    });
    if (options.json)
      io.stdout.write(
        `${JSON.stringify(
          scopes
            ? {
                overall: result.manifest,
                scopes: Object.fromEntries([...scopes].map(([n, r]) => [n, r.manifest])),
              }
            : result.manifest,
          null,
          2,
        )}\n`,
      );
    if (mail && !mail.sent) {
      io.stderr.write(`\nverifik-reports: ${terminalText(mailNotSentLine(result, mail))}\n`);
      return EXIT.mailNotSent;
    }
    return EXIT.ok;
  } catch (err) {
    const signal = stopped();
    if (signal) {
      io.stderr.write(
        `\nverifik-reports: stopped by ${signal}; no report was written (partial files removed, uploads aborted).\n`,
      );
      return EXIT_BY_SIGNAL[signal];
    }
    return reportFailure(err, io);
  } finally {
    removeHandlers?.();
  }
}

/**
 * `log`, `resend`, `backfill`, `pause`, `resume` (commands.ts, ops.ts): the deployed stack's
 * delivery log and operations, with the caller's AWS credentials. Exit codes by the error's kind,
 * as for a report: 2 usage or configuration (a missing variable is named), 1 not found or not
 * possible (a report that is not complete), 5 a re-send SES did not confirm.
 */
async function runCommand(command: CommandName, argv: string[], io: CliIo): Promise<number> {
  let options: ReturnType<typeof parseCommandArgs>;
  try {
    options = parseCommandArgs(command, argv);
  } catch (err) {
    io.stderr.write(`verifik-reports: ${terminalText((err as Error).message)}\n`);
    return EXIT.usage;
  }
  if (options === 'help') {
    io.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return EXIT.ok;
  }
  try {
    const { executeCommand } = await import('./ops.js');
    return await executeCommand(options, io);
  } catch (err) {
    io.stderr.write(`verifik-reports: ${terminalText(describeError(err))}\n`);
    return exitCodeFor(err);
  }
}

function reportFailure(err: unknown, io: CliIo): number {
  // Messages quote what servers said (Verifik's error text, SES's reason): one line, no controls.
  io.stderr.write(`\nverifik-reports: ${terminalText(describeError(err))}\nNo report was written.\n`);
  return exitCodeFor(err);
}
