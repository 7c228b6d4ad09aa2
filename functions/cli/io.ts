/** What the command reads and writes, injectable so tests run it in-process. */
import { EXIT_BY_SIGNAL, type StopSignal } from './errors.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /**
   * Calls `stop` on SIGINT or SIGTERM while a report runs; returns the function that removes the
   * handlers. Absent in tests that run the command in-process (they stop it themselves, if at all).
   */
  onStopSignal?: (stop: (signal: StopSignal) => void) => () => void;
}

/**
 * The process's signals: the first SIGINT/SIGTERM asks the run to stop (it aborts the read and the
 * sink, then exits 130/143); a second one exits at once, without cleaning up.
 */
function processStopSignals(stop: (signal: StopSignal) => void): () => void {
  let stopping = false;
  const handler = (signal: StopSignal) => {
    if (stopping) {
      process.stderr.write(`\nverifik-reports: ${signal} again: exiting without cleaning up.\n`);
      process.exit(EXIT_BY_SIGNAL[signal]);
    }
    stopping = true;
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export const defaultIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  now: () => new Date(),
  onStopSignal: processStopSignals,
});
