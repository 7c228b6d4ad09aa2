/**
 * The stack's bundling (BUNDLING in infra/constructs/report-functions.ts) drops zod's locales
 * without changing a word of zod's English messages: the same probe, bundled with the stack's
 * options with and without the zod alias, prints the same messages, and only `en` is bundled.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ALIASES } from '../../infra/bundling/aliases.js';
import { esbuildOptionsFor } from '../../infra/bundling/esbuild-options.js';
import { BUNDLING } from '../../infra/constructs/report-functions.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Messages from the functions' own schemas and from every kind of issue they can raise. */
const PROBE = `
import { z } from 'zod';
import { BiometricValidation } from './functions/verifik/schema.js';
import { Manifest } from './functions/report/manifest.js';
import { describeIssues } from './functions/util/zod-issues.js';

const cases = [
  [BiometricValidation, { _id: '', status: 3, createdAt: 'yesterday', client: 7 }],
  [Manifest, { id: 'x', window: { start: 'no', end: '2024-01-01T00:00:00Z', timeZone: '', from: '1/1', to: 2 } }],
  [z.object({ a: z.email(), b: z.url(), c: z.enum(['xlsx', 'csv']) }).strict(), { a: 'x', b: 'y', c: 'pdf', d: 1 }],
  [z.array(z.number().int().min(1).max(32)).min(2).max(3), [0, 2.5, 99, 'n', null]],
  [z.string().regex(/^[a-z]+$/).length(4), 'ABCDE'],
  [z.union([z.literal(true), z.date()]), 'maybe'],
  [z.record(z.string(), z.boolean()), { k: 'v' }],
  [z.iso.date(), '2024-13-45'],
  [z.string().refine(() => false, 'custom words'), 'x'],
];
const out = cases.map(([schema, value]) => {
  const r = schema.safeParse(value);
  return r.success ? 'ok' : describeIssues(r.error, 'value');
});
let locale;
try { locale = z.locales.fr; } catch (e) { locale = e.message; }
console.log(JSON.stringify({ out, locale: typeof locale === 'function' ? 'fr present' : locale }));
`;

interface Built {
  messages: string[];
  locale: string;
  localeFiles: string[];
  zodBytes: number;
}

const work = mkdtempSync(join(tmpdir(), 'infra-bundling-'));

async function bundleAndRun(name: string, withAlias: boolean): Promise<Built> {
  const outfile = join(work, name, 'index.mjs');
  const options = esbuildOptionsFor(BUNDLING, outfile, REPO_ROOT);
  const result = await build({
    ...options,
    alias: withAlias ? options.alias : {},
    metafile: true,
    stdin: { contents: PROBE, resolveDir: REPO_ROOT, sourcefile: 'probe.ts', loader: 'ts' },
  });
  // One output (index.mjs) besides its source map.
  const [output] = Object.entries((result.metafile as Metafile).outputs).filter(([p]) => !p.endsWith('.map'));
  const inputs = Object.entries(output![1].inputs).filter(([, i]) => i.bytesInOutput > 0);
  const parsed = JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' })) as {
    out: string[];
    locale: string;
  };
  return {
    messages: parsed.out,
    locale: parsed.locale,
    localeFiles: inputs
      .filter(([path]) => /node_modules\/zod\/v4\/locales\//.test(path))
      .map(([path]) => path.split('/').pop()!),
    zodBytes: inputs
      .filter(([path]) => path.includes('node_modules/zod/') || path.includes('infra/bundling/zod'))
      .reduce((sum, [, i]) => sum + i.bytesInOutput, 0),
  };
}

let withLocales: Built;
let withoutLocales: Built;

beforeAll(async () => {
  withLocales = await bundleAndRun('before', false);
  withoutLocales = await bundleAndRun('after', true);
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the zod alias in BUNDLING', () => {
  it('is what the stack passes to esbuild', () => {
    expect(BUNDLING.esbuildArgs).toEqual({ '--alias:zod': './infra/bundling/zod-without-locales.ts' });
    expect(BUNDLE_ALIASES).toEqual({ zod: './infra/bundling/zod-without-locales.ts' });
  });

  it('bundles only the English locale, about 260 KB less', () => {
    expect(withLocales.localeFiles.length).toBeGreaterThan(50);
    expect(withoutLocales.localeFiles).toEqual(['en.js']);
    expect(withLocales.zodBytes - withoutLocales.zodBytes).toBeGreaterThan(200_000);
  });

  it('leaves every message word for word as zod writes it in English', () => {
    expect(withoutLocales.messages).toEqual(withLocales.messages);
    expect(withoutLocales.messages.every((m) => m !== 'ok')).toBe(true);
    const all = withoutLocales.messages.join('\n');
    expect(all).toContain('status: Invalid input: expected string, received number');
    expect(all).toContain('a: Invalid email address');
    expect(all).toContain('Unrecognized key: "d"');
    expect(all).toContain('value: custom words');
  });

  it('says plainly that a locale is not bundled if code reaches for one', () => {
    expect(withLocales.locale).toBe('fr present');
    expect(withoutLocales.locale).toMatch(
      /z\.locales\.fr is not bundled \(infra\/bundling\/zod-without-locales\.ts\)/,
    );
  });
});
