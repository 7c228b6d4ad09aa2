/**
 * The shape of the code, checked: every file's layer is its folder, imports run only downward,
 * nothing imports in a circle, infra/ reads only the contract-level modules, and the fake Verifik
 * never ends up in a Lambda bundle. A plain reading of import specifiers (static, dynamic and
 * type-only), so it needs no bundler and fails with the offending file named.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Bottom to top: a folder may import its own files and folders of a lower rank only. */
const LAYERS: Record<string, number> = {
  'contract.ts': 0,
  errors: 0,
  util: 0,
  time: 1,
  settings: 2,
  verifik: 2,
  report: 3,
  delivery: 4,
  core: 5,
  runs: 6,
  // Long reports' plan, slices and assembly (issue 13): above core (it uses its request types and
  // naming), below runs/ (whose fan-out steps and hand-over use it).
  fanout: 5.5,
  api: 7,
  cli: 7,
  handlers: 8,
};

/** What infra/ may read of functions/: dependency-free facts and the configuration schemas. */
const INFRA_MAY_REACH = [
  /^functions\/contract\.ts$/,
  /^functions\/errors\//,
  /^functions\/time\//,
  /^functions\/settings\/(definitions|conditions|scopes|destinations|read-concurrency)\.ts$/,
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * Repository-relative .ts files a file imports (relative specifiers only); with `runtime`, only
 * what survives compilation (`import type` / `export type` are erased, so they load nothing).
 */
function importsOf(file: string, runtime = false): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    if (runtime && /^\s*(?:import|export)\s+type\b/.test(m[0])) continue;
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts');
    if (target.endsWith('.ts')) out.push(target);
  }
  return out;
}

const FILES = [...tsFiles('functions'), ...tsFiles('infra'), ...tsFiles('dev')];
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));
const RUNTIME_GRAPH = new Map(FILES.map((f) => [f, importsOf(f, true)]));

function layerOf(file: string): string | undefined {
  const first = file.split('/')[1];
  return first === undefined ? undefined : Object.hasOwn(LAYERS, first) ? first : undefined;
}

describe('architecture', () => {
  it('reads imports at all (the checks below are not vacuous)', () => {
    expect(FILES.length).toBeGreaterThan(80);
    expect(GRAPH.get('functions/core/report-build.ts')).toContain('functions/contract.ts');
  });

  it('every file under functions/ is in a known layer folder, none loose at the root but the contract', () => {
    const unknown = FILES.filter((f) => f.startsWith('functions/') && layerOf(f) === undefined);
    expect(unknown).toEqual([]);
  });

  it('imports run only downward (or within a folder)', () => {
    const upward: string[] = [];
    for (const [file, targets] of GRAPH) {
      const from = layerOf(file);
      if (!file.startsWith('functions/') || from === undefined) continue;
      for (const target of targets) {
        const to = layerOf(target);
        if (to === undefined || to === from) continue;
        if ((LAYERS[to] ?? Number.POSITIVE_INFINITY) >= (LAYERS[from] ?? 0))
          upward.push(`${file} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no import cycles among functions/, infra/ and dev/', () => {
    // Tarjan's strongly connected components; any component of more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of GRAPH.get(v) ?? []) {
        if (!GRAPH.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
      }
      if (low.get(v) === idx.get(v)) {
        const component: string[] = [];
        let w: string | undefined;
        do {
          w = stack.pop();
          if (w === undefined) break;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) cycles.push(component.sort());
      }
    };
    for (const v of GRAPH.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });

  it('infra/ reaches only the contract, the error kinds, time zones and the configuration schemas', () => {
    const reached = new Set<string>();
    const walk = (file: string) => {
      for (const t of GRAPH.get(file) ?? []) {
        if (!t.startsWith('functions/') || reached.has(t)) continue;
        reached.add(t);
        walk(t);
      }
    };
    for (const f of FILES.filter((f) => f.startsWith('infra/'))) walk(f);
    expect(reached.size).toBeGreaterThan(0);
    expect([...reached].filter((f) => !INFRA_MAY_REACH.some((re) => re.test(f)))).toEqual([]);
  });

  it('the API, the sweeper and ses-events never load the pipeline or the renderers (exceljs stays out of their bundles)', () => {
    const reach = (from: string): Set<string> => {
      const seen = new Set<string>();
      const walk = (f: string) => {
        for (const t of RUNTIME_GRAPH.get(f) ?? []) {
          if (seen.has(t)) continue;
          seen.add(t);
          walk(t);
        }
      };
      walk(from);
      return seen;
    };
    const heavy = [
      'functions/core/pipeline.ts',
      'functions/report/xlsx.ts',
      'functions/report/render-thread.ts',
    ];
    for (const entry of ['reports-api', 'sweeper', 'ses-events']) {
      const reached = reach(`functions/handlers/${entry}.ts`);
      expect(reached.size, entry).toBeGreaterThan(10);
      expect(
        heavy.filter((h) => reached.has(h)),
        entry,
      ).toEqual([]);
    }
    // The scheduled function does reach them: the check is not vacuous.
    expect(reach('functions/handlers/scheduled-report.ts').has('functions/core/pipeline.ts')).toBe(true);
  });

  it('functions/ never imports the fake Verifik or the dev tools (they must not reach a bundle)', () => {
    const leaks = [...GRAPH].flatMap(([file, targets]) =>
      file.startsWith('functions/')
        ? targets.filter((t) => t.startsWith('dev/')).map((t) => `${file} → ${t}`)
        : [],
    );
    expect(leaks).toEqual([]);
  });
});
