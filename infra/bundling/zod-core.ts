/** zod's `v4/core/index.js` (what `z.core` holds) without `locales`; see zod-without-locales.ts. */
export * from '../../node_modules/zod/v4/core/index.js';

export const locales: Record<string, never> = unavailable('z.core.locales');

/** A clear error, instead of "cannot read properties of undefined", for code that reaches for a locale. */
export function unavailable(what: string): Record<string, never> {
  return new Proxy(
    {},
    {
      get(_, key) {
        throw new Error(`${what}.${String(key)} is not bundled (infra/bundling/zod-without-locales.ts)`);
      },
    },
  );
}
