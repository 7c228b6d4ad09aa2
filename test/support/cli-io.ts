/** The CLI's I/O for an in-process run: what it prints is collected, its environment and clock are given. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../functions/cli/io.js';

export function captureIo(
  env: NodeJS.ProcessEnv,
  now: () => Date,
): { io: CliIo; out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => {
    o += d;
  });
  stderr.on('data', (d) => {
    e += d;
  });
  return { io: { stdout, stderr, env, now }, out: () => o, err: () => e };
}
