/**
 * Import substitutions in the Lambda bundles (esbuild `alias`; paths relative to the project root,
 * where the CDK runs esbuild). Dependency-free, so the bench bundles its scenarios the same way.
 * - zod → zod without its 60-odd locales, English kept (≈ 260 KB less a bundle): zod-without-locales.ts.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  zod: './infra/bundling/zod-without-locales.ts',
};
