/**
 * `npm run fake-verifik -- --port 4010 --seed 7 --count 20000 --date 2024-12-01 --tz America/Bogota`
 * Serves one generated day of validations on loopback for people developing against the API.
 */
import { parseArgs } from 'node:util';
import { dayWindow, yesterday } from '../../functions/time/window.js';
import { LIST_PATH } from '../../functions/verifik/client.js';
import { SESSION_PATH } from '../../functions/verifik/token.js';
import type { EmptyAs, Envelope } from './faults.js';
import { createDataset } from './generator.js';
import { startFakeVerifik } from './server.js';

class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `Usage: npm run fake-verifik -- [options]
  --port N            port to listen on (default 4010; 0 = any free port)
  --host H            address to bind (default 127.0.0.1)
  --seed N            generator seed (default 7)
  --count N           validations in the day (default 5000)
  --date YYYY-MM-DD   the day (default: yesterday in --tz)
  --tz ZONE           IANA zone of the day and of the activity curve (default UTC)
  --token T           bearer token to accept (default dev-token)
  --latency-ms N      delay every response (default 0)
  --envelope E        seed | module (default seed)
  --empty-as E        envelope | 204 | empty-array (default envelope)
  --max-per-page N    largest page served (default 1000)
  --max-concurrent N  requests served at once; more are answered 429 (default unlimited)`;

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}".`);
  return n;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}".`);
  }
  return value as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      count: { type: 'string' },
      date: { type: 'string' },
      tz: { type: 'string' },
      token: { type: 'string' },
      'latency-ms': { type: 'string' },
      envelope: { type: 'string' },
      'empty-as': { type: 'string' },
      'max-per-page': { type: 'string' },
      'max-concurrent': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const timeZone = values.tz ?? 'UTC';
  const day = values.date ?? yesterday(timeZone);
  const window = dayWindow(day, timeZone);
  const seed = int('seed', values.seed, 7);
  const count = int('count', values.count, 5000);
  const dataset = createDataset({ seed, count, start: window.start, end: window.end, timeZone });
  const fake = await startFakeVerifik({
    dataset,
    token: values.token ?? 'dev-token',
    port: int('port', values.port, 4010),
    host: values.host ?? '127.0.0.1',
    faults: {
      latencyMs: int('latency-ms', values['latency-ms'], 0),
      maxPerPage: int('max-per-page', values['max-per-page'], 1000, 1),
      maxConcurrent: int('max-concurrent', values['max-concurrent'], Number.POSITIVE_INFINITY, 1),
      envelope: oneOf<Envelope>('envelope', values.envelope, ['seed', 'module'], 'seed'),
      emptyAs: oneOf<EmptyAs>('empty-as', values['empty-as'], ['envelope', '204', 'empty-array'], 'envelope'),
    },
  });
  const from = new Date(window.start.getTime() - 1).toISOString();
  const to = window.end.toISOString();
  console.log(`Fake Verifik API listening on ${fake.url}${LIST_PATH}`);
  console.log(`token:  ${fake.token}   (a local development token, not a secret)`);
  const jwt = fake.issueToken();
  console.log(`jwt:    ${jwt}   (expires in 30 days; the static token above never does)`);
  console.log(
    `renew:  curl -s -H 'Authorization: Bearer <jwt>' '${fake.url}${SESSION_PATH}?origin=refresh&expiresIn=1'`,
  );
  console.log(
    `window: ${day} in ${timeZone} = [${window.start.toISOString()}, ${to}), ${count} validations, seed ${seed}`,
  );
  console.log('example:');
  console.log(
    `  curl -sg -H 'Authorization: Bearer ${fake.token}' '${fake.url}${LIST_PATH}?page=1&perPage=5&sort=createdAt` +
      `&populates[]=client&populates[]=project&where>_createdAt=${from}&where<_createdAt=${to}'`,
  );
  const stop = (signal: string) => {
    console.log(`\n${signal}: shutting down`);
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  if (err instanceof UsageError) console.error(USAGE);
  process.exit(2);
});
