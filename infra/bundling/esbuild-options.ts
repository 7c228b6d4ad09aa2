/**
 * The esbuild build options aws-cdk-lib's local bundling derives from a NodejsFunction's
 * BundlingOptions (its `buildEsbuildArgs`, for a nodejs24.x function): what `cdk synth` runs,
 * for the bench (bench/bundles.ts) and the bundling test, which call esbuild's API directly.
 * Options the stack does not use are refused rather than guessed.
 */

import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

const MAPPED_ESBUILD_ARGS = /^--alias:(.+)$/;

/** `projectRoot`: where the CDK runs esbuild (the NodejsFunction's projectRoot); aliases resolve there. */
export function esbuildOptionsFor(
  bundling: BundlingOptions,
  outfile: string,
  projectRoot: string,
): BuildOptions {
  const alias: Record<string, string> = {};
  for (const [key, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    const name = MAPPED_ESBUILD_ARGS.exec(key)?.[1];
    if (!name || typeof value !== 'string')
      throw new Error(`esbuildArgs ${key}: map it in ${import.meta.url}`);
    alias[name] = value;
  }
  for (const unmapped of [
    'loader',
    'define',
    'inject',
    'tsconfig',
    'footer',
    'nodeModules',
    'commandHooks',
  ] as const) {
    if (bundling[unmapped] !== undefined)
      throw new Error(`BUNDLING.${unmapped} is set: map it in ${import.meta.url}`);
  }
  const sourcemap = bundling.sourceMapMode ?? bundling.sourceMap;
  return {
    bundle: true,
    platform: 'node',
    target: bundling.target ?? 'node24',
    format: bundling.format as 'esm' | 'cjs' | undefined,
    outfile,
    minify: bundling.minify ?? false,
    sourcemap: sourcemap
      ? bundling.sourceMapMode === undefined || bundling.sourceMapMode === 'default'
        ? true
        : (bundling.sourceMapMode as 'external' | 'inline' | 'both')
      : false,
    sourcesContent: bundling.sourcesContent ?? true,
    // bundleAwsSDK: true and no externalModules: nothing is external.
    external: bundling.externalModules ?? (bundling.bundleAwsSDK ? [] : ['@aws-sdk/*']),
    keepNames: bundling.keepNames ?? false,
    mainFields: bundling.mainFields,
    banner: bundling.banner ? { js: bundling.banner } : undefined,
    alias,
    absWorkingDir: projectRoot,
    logLevel: 'error',
  };
}
