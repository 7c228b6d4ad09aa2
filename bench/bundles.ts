/**
 * The Lambda handler bundles as the stack builds them (BUNDLING in infra/constructs/report-functions.ts,
 * mapped to esbuild's API by infra/bundling/esbuild-options.ts): raw and gzip size, what is in them,
 * and how long a fresh Node 24 process takes to import each one (a cold start's module load).
 *
 *   npm run bench -- --only bundles           # ≈ 1 minute
 *   npx tsx bench/bundles.ts [--runs 21] [--json out.json]
 *
 * Import time: one fresh process per sample, `performance.now()` right after `await import(bundle)`
 * (milliseconds since the process started, so Node's own start is in it: see the empty-module
 * baseline). Targets are interleaved round by round, one warm-up round discarded, so load from
 * other processes spreads over all of them alike. "plain" runs without flags; "deployed" with the
 * functions' NODE_OPTIONS. A probe also writes a tiny workbook through exceljs, bundled the same
 * way, with and without those NODE_OPTIONS, to show whether DEP0005 reaches stderr (the logs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { esbuildOptionsFor } from '../infra/bundling/esbuild-options.js';
import {
  BUNDLING,
  HANDLER_NAMES,
  type HandlerName,
  handlerEntry,
  LAMBDA_NODE_OPTIONS,
} from '../infra/constructs/report-functions.js';
import { pinnedCpus } from './support.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Stats {
  median: number;
  min: number;
  max: number;
}

export interface BundleResult {
  handler: HandlerName | '(empty module)';
  rawBytes: number;
  gzipBytes: number;
  mapBytes: number;
  zodBytes: number;
  /** zod's translations (every file under zod/v4/locales, `en` included). */
  zodLocaleBytes: number;
  /** AWS SDK clients in the bundle, by package, bytes of output. */
  sdkClients: Record<string, number>;
  topPackages: Array<[string, number]>;
  importMs: { plain: Stats; deployed: Stats };
  /** What the import printed on stderr (a warning there would land in the logs at every cold start). */
  stderrAtImport: string;
}

export interface BundlesReport {
  node: string;
  esbuild: string;
  runs: number;
  nodeOptions: string;
  results: BundleResult[];
  dep0005: { withNodeOptions: boolean; without: boolean };
}

/** The environment Lambda's runtime gives a function before the handler module loads (what matters at import). */
function lambdaLikeEnv(name: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: 'VerifikReports',
    MALLOC_ARENA_MAX: '2',
  };
}

const RUNNER = `const mod = await import(process.argv[2]);
process.stdout.write(JSON.stringify({ ms: performance.now(), exports: Object.keys(mod) }));
`;

const packageOf = (input: string): string => {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return '(project)';
  const [scope, name] = input.slice(i + 'node_modules/'.length).split('/');
  return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
};

async function bundleHandler(name: HandlerName, dir: string): Promise<{ file: string; meta: Metafile }> {
  const file = join(dir, name, 'index.mjs');
  const { metafile } = await build({
    ...esbuildOptionsFor(BUNDLING, file, REPO_ROOT),
    entryPoints: [handlerEntry(name)],
    metafile: true,
  });
  return { file, meta: metafile! };
}

function composition(file: string, meta: Metafile) {
  const [, output] = Object.entries(meta.outputs).find(([path]) => !path.endsWith('.map'))!;
  const byPackage = new Map<string, number>();
  let zodLocaleBytes = 0;
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg = path.includes('infra/bundling/zod') ? 'zod' : packageOf(path);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    if (/node_modules\/zod\/v4\/locales\//.test(path)) zodLocaleBytes += bytesInOutput;
  }
  const raw = readFileSync(file);
  const sorted = [...byPackage].sort((a, b) => b[1] - a[1]);
  return {
    rawBytes: raw.length,
    gzipBytes: gzipSync(raw, { level: 9 }).length,
    mapBytes: statSync(`${file}.map`, { throwIfNoEntry: false })?.size ?? 0,
    zodBytes: byPackage.get('zod') ?? 0,
    zodLocaleBytes,
    sdkClients: Object.fromEntries(sorted.filter(([pkg]) => pkg.startsWith('@aws-sdk/client-'))),
    topPackages: sorted.slice(0, 6),
  };
}

function importOnce(
  runner: string,
  target: string,
  env: Record<string, string>,
): Promise<{ ms: number; stderr: string }> {
  const cpus = pinnedCpus();
  const argv = [runner, pathToFileURL(target).href];
  const [command, args] = cpus
    ? ['taskset', ['-c', cpus, process.execPath, ...argv]]
    : [process.execPath, argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`importing ${target} exited ${code}: ${err}`));
      else resolve({ ms: (JSON.parse(out) as { ms: number }).ms, stderr: err.trim() });
    });
  });
}

const round1 = (x: number) => Math.round(x * 10) / 10;
function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: round1(median), min: round1(s[0]!), max: round1(s.at(-1)!) };
}

const DEP0005_PROBE = `
import ExcelJS from 'exceljs';
const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: process.argv[2], useStyles: true });
const ws = wb.addWorksheet('S');
ws.addRow(['a', 1]).commit();
ws.commit();
await wb.commit();
`;

/** Does a workbook written by the bundled exceljs print DEP0005, with and without the functions' NODE_OPTIONS? */
async function probeDep0005(dir: string): Promise<BundlesReport['dep0005']> {
  const file = join(dir, 'probe', 'index.mjs');
  await build({
    ...esbuildOptionsFor(BUNDLING, file, REPO_ROOT),
    stdin: { contents: DEP0005_PROBE, resolveDir: REPO_ROOT, sourcefile: 'probe.ts', loader: 'ts' },
  });
  const run = (nodeOptions?: string) => {
    const env = { ...lambdaLikeEnv('probe'), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
    const r = spawnSync(process.execPath, [file, join(dir, 'probe.xlsx')], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`DEP0005 probe exited ${r.status}: ${r.stderr}`);
    return r.stderr.includes('DEP0005');
  };
  return { withNodeOptions: run(LAMBDA_NODE_OPTIONS), without: run() };
}

export async function benchBundles(opts: { runs?: number } = {}): Promise<BundlesReport> {
  const runs = opts.runs ?? 21;
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  try {
    const runner = join(dir, 'import-runner.mjs');
    writeFileSync(runner, RUNNER);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    mkdirSync(join(dir, 'probe'));

    const bundles = [];
    for (const name of HANDLER_NAMES) {
      const { file, meta } = await bundleHandler(name, dir);
      bundles.push({ name, file, ...composition(file, meta) });
    }
    const targets = [{ name: '(empty module)' as const, file: empty }, ...bundles];
    const samples = new Map(
      targets.map((t) => [t.name, { plain: [] as number[], deployed: [] as number[] }]),
    );
    const stderrAtImport = new Map<string, string>();
    for (let round = -1; round < runs; round++) {
      for (const t of targets) {
        for (const variant of ['plain', 'deployed'] as const) {
          const env = lambdaLikeEnv(t.name);
          if (variant === 'deployed') env.NODE_OPTIONS = LAMBDA_NODE_OPTIONS;
          const { ms, stderr } = await importOnce(runner, t.file, env);
          if (round < 0) stderrAtImport.set(`${t.name} ${variant}`, stderr);
          else samples.get(t.name)![variant].push(ms);
        }
      }
    }
    const importMs = (name: BundleResult['handler']) => ({
      plain: stats(samples.get(name)!.plain),
      deployed: stats(samples.get(name)!.deployed),
    });
    const results: BundleResult[] = [
      {
        handler: '(empty module)',
        rawBytes: 0,
        gzipBytes: 0,
        mapBytes: 0,
        zodBytes: 0,
        zodLocaleBytes: 0,
        sdkClients: {},
        topPackages: [],
        importMs: importMs('(empty module)'),
        stderrAtImport: '',
      },
      ...bundles.map(({ name, file: _file, ...c }) => ({
        handler: name,
        ...c,
        importMs: importMs(name),
        stderrAtImport: [stderrAtImport.get(`${name} plain`), stderrAtImport.get(`${name} deployed`)]
          .filter(Boolean)
          .join('\n'),
      })),
    ];
    return {
      node: process.version,
      esbuild: (await import('esbuild')).version,
      runs,
      nodeOptions: LAMBDA_NODE_OPTIONS,
      results,
      dep0005: await probeDep0005(dir),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

export function formatBundles(report: BundlesReport): string {
  const lines = [
    `Node ${report.node}, esbuild ${report.esbuild}, the stack's BUNDLING; import: ${report.runs} fresh processes per target, ms since process start`,
    `deployed NODE_OPTIONS="${report.nodeOptions}"${pinnedCpus() ? `, pinned to CPUs ${pinnedCpus()}` : ''}`,
    '',
    'handler              raw KB  gzip KB  zod KB (locales)  import ms plain: median (min–max)  deployed: median (min–max)',
  ];
  for (const r of report.results) {
    const t = (s: Stats) => `${s.median} (${s.min}–${s.max})`;
    lines.push(
      `${r.handler.padEnd(18)} ${kb(r.rawBytes).padStart(8)} ${kb(r.gzipBytes).padStart(8)}  ${`${kb(r.zodBytes)} (${kb(r.zodLocaleBytes)})`.padStart(16)}  ${t(r.importMs.plain).padStart(33)}  ${t(r.importMs.deployed).padStart(26)}`,
    );
  }
  lines.push('');
  for (const r of report.results.filter((r) => r.handler !== '(empty module)')) {
    const clients = Object.entries(r.sdkClients)
      .map(([pkg, bytes]) => `${pkg.replace('@aws-sdk/client-', '')} ${kb(bytes)}`)
      .join(', ');
    const top = r.topPackages.map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`).join(', ');
    lines.push(`${r.handler}: SDK clients ${clients || 'none'}; largest ${top}`);
    if (r.stderrAtImport) lines.push(`  stderr at import: ${r.stderrAtImport}`);
  }
  lines.push(
    '',
    `DEP0005 from a bundled exceljs workbook: ${report.dep0005.without ? 'printed' : 'not printed'} without flags, ` +
      `${report.dep0005.withNodeOptions ? 'PRINTED' : 'not printed'} with the deployed NODE_OPTIONS`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, json: { type: 'string' } } });
  const report = await benchBundles(values.runs ? { runs: Number(values.runs) } : {});
  console.log(formatBundles(report));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
