/** Small shared pieces: messages people must notice, status badges, file lists, async loading. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, SessionEnded } from './api.js';
import { bytes } from './format.js';

export function ErrorText({ error }: { error: unknown }) {
  if (!error || error instanceof SessionEnded) return null;
  const text =
    error instanceof ApiError || error instanceof Error ? error.message : 'Something went wrong. Try again.';
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export interface ReportFile {
  kind: string;
  name: string;
  bytes: number;
  sha256?: string;
  url?: string;
}

export function Files({ files, label }: { files: ReportFile[]; label: string }) {
  if (files.length === 0) return <span class="muted">no files</span>;
  return (
    <ul class="files" aria-label={`Files of ${label}`}>
      {files.map((f) => (
        <li key={f.name}>
          <a
            class="button download"
            href={f.url}
            download={f.name}
            aria-label={`Download ${f.name} of ${label}`}
          >
            Download {f.name}
          </a>{' '}
          <span class="muted">{bytes(f.bytes)}</span>
        </li>
      ))}
    </ul>
  );
}

/** Runs `load` when `deps` change; returns its value, error and a reload. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ value?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  // The caller names what the load depends on (deps), like a hook's own dependency list.
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => live && setState({ value, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
