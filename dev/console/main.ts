/**
 * `npm run console`: the reports console against the embedded stand-ins (see server.ts). Prints
 * the URL and one login per group; Ctrl-C stops everything.
 */
import { startConsoleServer } from './server.js';

const port = Number(process.env.CONSOLE_PORT ?? 5173);
const started = Date.now();
process.stderr.write('Starting moto, the fake Verifik and yesterday’s reports…\n');
const server = await startConsoleServer({ port, log: (line) => process.stderr.write(`${line}\n`) });
const lines = [
  '',
  `Reports console: ${server.url}/  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  '',
  'Logins (one per group):',
  ...server.pool.logins.map(
    (l) =>
      `  ${l.group.padEnd(11)} ${l.email.padEnd(22)} password ${l.password}${l.totp ? `  authenticator code: any 6 digits, e.g. ${l.totp}` : ''}`,
  ),
  '',
  'Ctrl-C to stop.',
  '',
];
process.stdout.write(lines.join('\n'));
let stopping = false;
const stop = async () => {
  if (stopping) process.exit(130);
  stopping = true;
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
