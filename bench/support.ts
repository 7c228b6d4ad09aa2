/** Shared bench plumbing: child processes, so each scenario's peak RSS is its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_NODE_FLAGS } from '../functions/contract.js';
import { BUNDLE_ALIASES } from '../infra/bundling/aliases.js';

/** Children run from the repository root, so `--import tsx` and relative paths resolve wherever the bench is started. */
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles `entry` the way the CDK bundles the Lambdas (esbuild, ESM, minified, `module` before
 * `main`, the same aliases, with a `require` shim; BUNDLING in infra/constructs/report-functions.ts),
 * so a scenario measures the deployable code rather than the TypeScript loader (≈ 45 MB).
 */
export async function bundle(entry: string): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'bench-bundle-')), `${basename(entry, '.ts')}.mjs`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // BENCH_MINIFY=0 keeps function names readable in --cpu-prof profiles.
    minify: process.env.BENCH_MINIFY !== '0',
    outfile,
    mainFields: ['module', 'main'],
    alias: { ...BUNDLE_ALIASES },
    absWorkingDir: REPO_ROOT,
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}

/**
 * CPUs the scenario children are pinned to (`taskset -c`), from `npm run bench -- --cpus 0` or
 * BENCH_CPUS; unset, they may use every core. The fake Verifik is never pinned: pinning the report
 * to one core of two leaves it the other, the way Verifik's own servers do not share a Lambda's CPU.
 * One core stands for a Lambda at 1,769 MB (1 vCPU), two for 3,538 MB (2 vCPUs).
 */
export function pinnedCpus(): string | undefined {
  return process.env.BENCH_CPUS || undefined;
}

/**
 * Runs `script` (TypeScript through tsx, or a bundle) in a child and returns the JSON it printed
 * last. Every child gets the functions' Node flags (infra/node-flags.ts) after `nodeFlags`.
 */
export async function runChild<T>(
  script: string,
  args: string[],
  nodeFlags: string[] = [],
  env: Record<string, string> = {},
): Promise<T> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const argv = [...nodeFlags, ...LAMBDA_NODE_FLAGS, ...loader, script, ...args];
  const cpus = pinnedCpus();
  const [command, commandArgs] = cpus
    ? ['taskset', ['-c', cpus, process.execPath, ...argv]]
    : [process.execPath, argv];
  const proc = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  // 'close', not 'exit': 'exit' may come before the last of stdout has been read.
  const [code] = (await once(proc, 'close')) as [number | null];
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

/**
 * The fake Verifik in its own process, with the window's pages pre-rendered at `perPage`
 * (bench/fake-verifik-process.ts): on a 2-core machine a live fake's JSON rendering would compete
 * with the reader for CPU, which the real Verifik does not.
 */
export async function spawnFake(opts: {
  count: number;
  seed: number;
  /** The fake's day in `timeZone`, unless `span` gives its instants (a fan-out slice's). */
  date: string;
  timeZone: string;
  span?: { start: Date; end: Date };
  latencyMs: number;
  prerender: number[];
  clients?: number;
  projectsPerClient?: number;
  /** The account's rate limit as a concurrency: more at once are answered 429. */
  maxConcurrent?: number;
  /** With `maxConcurrent`: the `Retry-After` seconds its 429s carry (none by default). */
  retryAfterS?: number;
}): Promise<FakeProcess> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/fake-verifik-process.ts',
      '--count',
      String(opts.count),
      '--seed',
      String(opts.seed),
      ...(opts.span
        ? ['--start', opts.span.start.toISOString(), '--end', opts.span.end.toISOString()]
        : ['--day', opts.date, '--tz', opts.timeZone]),
      '--latency-ms',
      String(opts.latencyMs),
      '--prerender',
      opts.prerender.join(','),
      ...(opts.clients ? ['--clients', String(opts.clients)] : []),
      ...(opts.projectsPerClient ? ['--projects-per-client', String(opts.projectsPerClient)] : []),
      ...(opts.maxConcurrent ? ['--max-concurrent', String(opts.maxConcurrent)] : []),
      ...(opts.retryAfterS ? ['--retry-after', String(opts.retryAfterS)] : []),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: REPO_ROOT },
  );
  const lines = createInterface({ input: proc.stdout! });
  let info: { url: string; token: string } | null = null;
  for await (const line of lines) {
    info = JSON.parse(line) as { url: string; token: string };
    break;
  }
  if (!info) throw new Error('fake Verifik did not start');
  proc.stdout!.resume();
  return {
    url: info.url,
    token: info.token,
    proc,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.stdin!.end();
        await once(proc, 'exit');
      }
    },
  };
}

export const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b);
export const fmt = (n: number, digits = 2) => n.toFixed(digits);
