/**
 * The contract between the CDK app and the functions: every entry the stack bundles exists and
 * exports `handler`, so `cdk synth` cannot bundle a file that is missing or exports nothing.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HANDLER_NAMES, handlerEntry } from '../../infra/constructs/report-functions.js';

describe('handler entries', () => {
  it.each(HANDLER_NAMES)('functions/handlers/%s.ts exists and exports a handler function', async (name) => {
    const entry = handlerEntry(name);
    expect(entry).toMatch(new RegExp(`functions/handlers/${name}\\.ts$`));
    expect(existsSync(entry), entry).toBe(true);
    const mod = (await import(pathToFileURL(entry).href)) as { handler?: unknown };
    expect(typeof mod.handler).toBe('function');
  });
});
