import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LAMBDA_V8_FLAGS } from '../../functions/contract.js';
import { IN_PROCESS_V8_FLAGS } from '../../functions/settings/runtime-flags.js';

/** Starts a Node process with `NODE_OPTIONS`, as Lambda does, and says whether it started. */
const startsWith = (nodeOptions: string) =>
  spawnSync(process.execPath, ['-e', 'process.exit(0)'], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
  });

describe('runtime flags', () => {
  it('puts in NODE_OPTIONS only flags Node accepts there', () => {
    const run = startsWith(['--enable-source-maps', ...LAMBDA_V8_FLAGS].join(' '));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it.each(IN_PROCESS_V8_FLAGS)('sets %s in-process because NODE_OPTIONS refuses it', (flag) => {
    const run = startsWith(flag);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/not allowed in NODE_OPTIONS/);
  });
});
