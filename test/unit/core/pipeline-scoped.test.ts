/**
 * One read, many reports: every scope's files hold exactly its own rows (against the oracle),
 * the overall report holds all of them, and traps that a careless split would fall into — the
 * same person (identifier) validated in two projects, records without a project, a project of no
 * scope — land where they belong.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../../dev/fake-verifik/generator.js';
import { expectedRecords } from '../../../dev/fake-verifik/oracle.js';
import { type FakeVerifik, startFakeVerifik } from '../../../dev/fake-verifik/server.js';
import { FILE_CATALOGUE } from '../../../functions/contract.js';
import { runScopedReports, type ScopeTarget } from '../../../functions/core/pipeline.js';
import type { ReportRequest } from '../../../functions/core/request.js';
import { Manifest } from '../../../functions/report/manifest.js';
import { dayWindow } from '../../../functions/time/window.js';
import { createVerifikClient } from '../../../functions/verifik/client.js';
import { type BiometricValidation, refId } from '../../../functions/verifik/schema.js';
import { createMemorySink, type MemorySink } from '../../support/memory-sink.js';

const TZ = 'America/Bogota';
const DAY = '2026-11-26';
const window = dayWindow(DAY, TZ);
const TRAP_IDENTIFIER = 'CC-1000000001';

let fake: FakeVerifik;
let dataset: Dataset;

beforeAll(async () => {
  dataset = createDataset({
    seed: 11,
    count: 3000,
    start: window.start,
    end: window.end,
    clients: 3,
    projectsPerClient: 3,
    timeZone: TZ,
  });
  // The same person validated in two projects of two clients, and a record with no project.
  const [p1, p2] = [dataset.projects[0], dataset.projects[4]];
  const base = dataset.generate(3, window.start, window.end);
  const trap = (r: BiometricValidation | undefined, project: typeof p1 | null): BiometricValidation => ({
    ...(r as BiometricValidation),
    identifier: TRAP_IDENTIFIER,
    project: project ? { _id: project._id, name: project.name } : null,
    client: project ? { _id: project.clientId } : (r as BiometricValidation).client,
  });
  dataset.insert([trap(base[0], p1 ?? null), trap(base[1], p2 ?? null), trap(base[2], null)]);
  fake = await startFakeVerifik({ dataset, token: 'scoped-token', faults: { maxPerPage: 250 } });
});
afterAll(async () => {
  await fake.close();
});

const request: ReportRequest = {
  definition: 'ops',
  window,
  statuses: [],
  types: [],
  clients: [],
  formats: ['xlsx', 'csv'],
};

function csvRows(sink: MemorySink): Record<string, string>[] {
  const text = sink.files.get(FILE_CATALOGUE['details-csv'].name)?.bytes.toString('utf8') ?? '';
  return parse(text.replace(/^\uFEFF/, ''), { columns: true });
}

describe('runScopedReports', () => {
  it('gives each project its own rows only, and the overall report every row', async () => {
    // Five of the nine projects are scopes; the other four go to the overall report only.
    const chosen = dataset.projects.filter((_, i) => i % 2 === 0);
    const sinks = new Map<string, MemorySink>();
    const scopes: ScopeTarget[] = chosen.map((p, i) => {
      const sink = createMemorySink();
      sinks.set(p._id, sink);
      return {
        id: p._id,
        request: { ...request, definition: `ops--p${i}`, projects: [p._id] },
        reportId: `ops--p${i}-${DAY}-test`,
        sink,
      };
    });
    const overallSink = createMemorySink();
    const result = await runScopedReports({
      request,
      by: 'project',
      scopes,
      overall: { reportId: `ops-${DAY}-test`, sink: overallSink },
      verifik: createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } }),
      read: { perPage: 250, concurrency: 3 },
      now: () => new Date('2026-11-27T11:00:00Z'),
    });
    // One read: the pages asked for are those of one pass over the day.
    const all = expectedRecords(dataset, { start: window.start, end: window.end });
    const byProject = (id: string) => all.filter((r) => refId(r.project) === id);

    for (const p of chosen) {
      const sink = sinks.get(p._id) as MemorySink;
      const own = byProject(p._id);
      expect(own.length).toBeGreaterThan(0);
      const rows = csvRows(sink);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(own.map((r) => r._id)));
      expect(rows.every((r) => r.projectId === p._id)).toBe(true);
      const r = result.scopes.get(p._id);
      expect(r?.summary.totals.validations).toBe(own.length);
      expect(r?.summary.byProject.map((x) => x.id)).toEqual([p._id]);
      const manifest = Manifest.parse(JSON.parse(sink.manifest ?? 'null'));
      expect(manifest.filters.projects).toEqual([p._id]);
      expect(manifest.files.find((f) => f.kind === 'xlsx')?.rows).toBe(own.length);
      expect(sink.events.at(-1)).toBe('commit');
    }
    // The trap: the identifier shows in each of its two projects' files once, with that project's record.
    const trapRows = [...sinks.values()].flatMap((s) =>
      csvRows(s).filter((r) => r.identifier === TRAP_IDENTIFIER),
    );
    const trapRecords = all.filter((r) => r.identifier === TRAP_IDENTIFIER);
    expect(trapRecords).toHaveLength(3);
    // Projects 0 and 4 are both scopes: one row each; the record without a project is in neither.
    expect(trapRows).toHaveLength(2);
    expect(new Set(trapRows.map((r) => r.projectId)).size).toBe(2);
    for (const row of trapRows) {
      const rec = trapRecords.find((r) => r._id === row.id);
      expect(row.projectId).toBe(refId(rec?.project));
    }

    // Overall: every row; the rows of no scope (other projects, no project) are counted.
    const overall = csvRows(overallSink);
    expect(overall).toHaveLength(all.length);
    const chosenIds = new Set(chosen.map((p) => p._id));
    const unscoped = all.filter((r) => !chosenIds.has(refId(r.project) ?? '')).length;
    expect(unscoped).toBeGreaterThan(0);
    expect(result.unscoped).toBe(unscoped);
    expect(result.overall?.manifest.diagnostics.unscoped).toBe(unscoped);
    expect(overallSink.manifest).not.toBeNull();
  });

  it('a client split without the overall report; a scope without rows is still a complete, empty report', async () => {
    const [c0] = dataset.clients;
    const nobody = 'client_without_validations';
    const sinks = [createMemorySink(), createMemorySink()];
    const result = await runScopedReports({
      request: { ...request, formats: ['csv'] },
      by: 'client',
      scopes: [
        {
          id: c0?._id as string,
          request: { ...request, formats: ['csv'], definition: 'ops--c0', clients: [c0?._id as string] },
          reportId: 'c0',
          sink: sinks[0] as MemorySink,
        },
        {
          id: nobody,
          request: { ...request, formats: ['csv'], definition: 'ops--none', clients: [nobody] },
          reportId: 'none',
          sink: sinks[1] as MemorySink,
        },
      ],
      verifik: createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } }),
      read: { perPage: 250, concurrency: 2 },
    });
    expect(result.overall).toBeNull();
    const own = expectedRecords(dataset, { start: window.start, end: window.end }).filter(
      (r) => refId(r.client) === c0?._id,
    );
    expect(csvRows(sinks[0] as MemorySink)).toHaveLength(own.length);
    expect(result.scopes.get(nobody)?.summary.totals.validations).toBe(0);
    expect(csvRows(sinks[1] as MemorySink)).toHaveLength(0);
    expect(sinks[1]?.manifest).not.toBeNull();
  });

  it('a failed read aborts every scope: no manifest anywhere', async () => {
    fake.faults.push(
      { kind: 'malformed', body: '{"data": 5}' },
      { when: (q) => q.query.get('page') === '2' },
    );
    try {
      const sinks = [createMemorySink(), createMemorySink()];
      const overall = createMemorySink();
      const [p0, p1] = dataset.projects;
      await expect(
        runScopedReports({
          request,
          by: 'project',
          scopes: [p0, p1].map((p, i) => ({
            id: p?._id as string,
            request: { ...request, definition: `ops--p${i}`, projects: [p?._id as string] },
            reportId: `p${i}`,
            sink: sinks[i] as MemorySink,
          })),
          overall: { reportId: 'overall', sink: overall },
          verifik: createVerifikClient({ baseUrl: fake.url, token: fake.token, retry: { attempts: 1 } }),
          read: { perPage: 250, concurrency: 1 },
        }),
      ).rejects.toThrow();
      for (const s of [...sinks, overall]) {
        expect(s.manifest).toBeNull();
        expect(s.aborted).toBeDefined();
      }
    } finally {
      fake.faults.clear();
      fake.faults.set({ maxPerPage: 250 });
    }
  });
});
