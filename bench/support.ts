/** Shared bench plumbing: child processes, so each scenario's peak RSS is its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Runs `node --import tsx <script> ...args` and returns the JSON the child printed last. */
export async function runChild<T>(script: string, args: string[], nodeFlags: string[] = []): Promise<T> {
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const [code] = (await once(proc, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench child ${script} ${args.join(' ')} exited ${code}`);
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}

export interface FakeProcess {
  url: string;
  token: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** The fake Verifik in its own process, so its memory and CPU are not charged to the reader. */
export async function spawnFake(opts: {
  count: number;
  seed: number;
  date: string;
  timeZone: string;
  latencyMs: number;
  maxPerPage?: number;
}): Promise<FakeProcess> {
  const token = 'bench-token';
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'dev/fake-verifik/main.ts',
      '--port',
      '0',
      '--count',
      String(opts.count),
      '--seed',
      String(opts.seed),
      '--date',
      opts.date,
      '--tz',
      opts.timeZone,
      '--latency-ms',
      String(opts.latencyMs),
      '--max-per-page',
      String(opts.maxPerPage ?? 1000),
      '--token',
      token,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: proc.stdout! });
  let url: string | null = null;
  for await (const line of lines) {
    const m = /listening on (http:\/\/[^\s/]+)/.exec(line);
    if (m) {
      url = m[1]!;
      break;
    }
  }
  if (!url) throw new Error('fake Verifik did not start');
  proc.stdout!.resume();
  return {
    url,
    token,
    proc,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await once(proc, 'exit');
      }
    },
  };
}

export const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
export const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);
export const fmt = (n: number, digits = 2) => n.toFixed(digits);
