/**
 * Builds the reports console into console/dist with esbuild (already the Lambdas' bundler):
 * one minified ES module, one stylesheet, index.html. Run by `npm install` (the `prepare`
 * script), by `npm run console` and by the browser tests, so a fresh clone has it.
 * `tsx console/build.ts` prints the page weight (gzipped bytes of what the browser loads).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = join(HERE, 'dist');
/** What the browser loads for a page (config.json aside): the weight the issue bounds (~150 KB gz). */
export const PAGE_FILES = ['index.html', 'app.js', 'app.css'] as const;

export async function buildConsole(outdir = CONSOLE_DIST): Promise<void> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(HERE, 'src', 'main.tsx'), styles: join(HERE, 'src', 'styles.css') },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'safari16', 'firefox110'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    entryNames: '[name]',
  });
  // esbuild names the CSS entry after its key; the page asks for app.css.
  await copyFile(join(outdir, 'styles.css'), join(outdir, 'app.css'));
  await copyFile(join(HERE, 'index.html'), join(outdir, 'index.html'));
}

/** Gzipped bytes of each file the page loads, and their sum. */
export async function pageWeight(
  dir = CONSOLE_DIST,
): Promise<{ files: Record<string, number>; total: number }> {
  const files: Record<string, number> = {};
  for (const f of PAGE_FILES) files[f] = gzipSync(await readFile(join(dir, f)), { level: 9 }).length;
  return { files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole();
  const { files, total } = await pageWeight();
  process.stdout.write(
    `console built in ${CONSOLE_DIST}: ${Object.entries(files)
      .map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KB`)
      .join(', ')}; page ${(total / 1024).toFixed(1)} KB gzipped\n`,
  );
}
