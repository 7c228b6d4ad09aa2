/**
 * `npm start`: the whole report job on one machine, with no AWS account and no Verifik token.
 * Starts the project's fake Verifik in-process with a realistic seeded day, then runs the real
 * CLI (same flags, same pipeline) for yesterday into ./reports.
 */
import { randomBytes } from 'node:crypto';
import { runCli } from '../functions/cli/main.js';
import { dayWindow, yesterday } from '../functions/time/window.js';
import { createDataset } from './fake-verifik/generator.js';
import { startFakeVerifik } from './fake-verifik/server.js';

const TIME_ZONE = process.env.REPORT_TIME_ZONE ?? 'America/Bogota';
const COUNT = Number(process.env.DEMO_VALIDATIONS ?? 25_000);

const day = yesterday(TIME_ZONE);
const window = dayWindow(day, TIME_ZONE);
// A throwaway token, so the demo exercises the same bearer check as the real API.
const token = randomBytes(18).toString('base64url');
const fake = await startFakeVerifik({
  dataset: createDataset({
    seed: 20241201,
    start: window.start,
    end: window.end,
    count: COUNT,
    timeZone: TIME_ZONE,
  }),
  token,
});
process.stderr.write(
  `Fake Verifik with ${COUNT.toLocaleString('en-US')} validations on ${day} (${TIME_ZONE}) at ${fake.url}\n`,
);

const started = Date.now();
const code = await runCli(
  ['--date', day, '--tz', TIME_ZONE, '--definition', 'demo', ...process.argv.slice(2)],
  {
    stdout: process.stdout,
    stderr: process.stderr,
    env: { ...process.env, VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: token },
    now: () => new Date(),
  },
);
await fake.close();
if (code === 0) process.stderr.write(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
process.exitCode = code;
