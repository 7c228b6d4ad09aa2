/**
 * Which cells the Summary's charts draw from, given where the tables were written.
 */
import { describe, expect, it } from 'vitest';
import { rangeFormula } from '../../functions/report/xlsx-chart-xml.js';
import type { Table } from '../../functions/report/xlsx-sheets.js';
import {
  MAX_CLIENT_BARS,
  type PlacedTable,
  type SummaryChartSources,
  summaryCharts,
} from '../../functions/report/xlsx-summary-charts.js';

const hourTable: Table = {
  headers: ['Hour (Europe/Madrid)', 'Validations', 'Failed', 'Failed %'],
  formats: ['text', 'int', 'int', 'pct'],
  rows: Array.from({ length: 24 }, (_, h) => [`${h}:00`, h * 10, h, h === 0 ? null : 0.1]),
};
const statusTable: Table = {
  key: 'byStatus',
  title: 'By status',
  headers: ['Status', 'Validations', 'Share'],
  formats: ['text', 'int', 'pct'],
  rows: [
    ['completed', 6, 0.6],
    ['failed', 4, 0.4],
  ],
};
function clientTable(rows: Array<[string | null, string | null, number, number]>): Table {
  return {
    headers: ['Client ID', 'Client', 'Validations', 'Failed', 'Failed %', 'High risk', 'High risk %'],
    formats: ['text', 'text', 'int', 'int', 'pct', 'int', 'pct'],
    rows: rows.map(([id, name, n, failed]) => [id ?? '(no client)', name, n, failed, failed / n, 0, 0]),
  };
}

function sources(clients: Table, over: Partial<SummaryChartSources> = {}): SummaryChartSources {
  const placed = (sheet: string, table: Table, headerRow = 1): PlacedTable => ({ sheet, table, headerRow });
  return {
    byHour: placed('By hour', hourTable),
    byStatus: placed('Summary', statusTable, 23),
    byClient: placed('By client', clients),
    timeZone: 'Europe/Madrid',
    ...over,
  };
}

const twoClients = clientTable([
  ['c1', 'Banco Andino', 10, 1],
  ['c2', 'Tienda Ñandú', 5, 2],
]);

describe('summaryCharts', () => {
  it('charts validations and failures per hour as columns from the By hour sheet', () => {
    const [hours] = summaryCharts(sources(twoClients));
    expect(hours?.spec.direction).toBe('col');
    expect(hours?.spec.title).toBe('Validations per hour (Europe/Madrid)');
    const refs = hours?.spec.series.map((s) => [
      rangeFormula(s.name.ref),
      rangeFormula(s.categories.ref),
      rangeFormula(s.values.ref),
    ]);
    expect(refs).toEqual([
      ["'By hour'!$B$1", "'By hour'!$A$2:$A$25", "'By hour'!$B$2:$B$25"],
      ["'By hour'!$C$1", "'By hour'!$A$2:$A$25", "'By hour'!$C$2:$C$25"],
    ]);
    // The cache is the table's content.
    expect(hours?.spec.series[0]?.values.values).toEqual(hourTable.rows.map((r) => r[1]));
    expect(hours?.spec.series[0]?.categories.values[3]).toBe('3:00');
  });

  it("charts status shares as bars from the Summary's own table, wherever it was written", () => {
    const [, status] = summaryCharts(sources(twoClients));
    expect(status?.spec).toMatchObject({ title: 'Status shares', direction: 'bar', valueFormat: '0%' });
    const [s] = status?.spec.series ?? [];
    expect(s && rangeFormula(s.name.ref)).toBe('Summary!$C$23');
    expect(s && rangeFormula(s.categories.ref)).toBe('Summary!$A$24:$A$25');
    expect(s && rangeFormula(s.values.ref)).toBe('Summary!$C$24:$C$25');
    expect(s?.values.values).toEqual([0.6, 0.4]);
  });

  it('charts failure rate per client by name, from the By client sheet', () => {
    const [, , clients] = summaryCharts(sources(twoClients));
    expect(clients?.spec.title).toBe('Failure rate per client');
    const [s] = clients?.spec.series ?? [];
    expect(s && rangeFormula(s.categories.ref)).toBe("'By client'!$B$2:$B$3");
    expect(s && rangeFormula(s.values.ref)).toBe("'By client'!$E$2:$E$3");
    expect(s?.categories.values).toEqual(['Banco Andino', 'Tienda Ñandú']);
    expect(s?.values.values).toEqual([0.1, 0.4]);
  });

  it('labels clients by ID when a name is missing or two clients share one', () => {
    for (const table of [
      clientTable([
        ['c1', 'Same', 3, 1],
        ['c2', 'Same', 2, 1],
      ]),
      clientTable([
        ['c1', 'Named', 3, 1],
        [null, null, 2, 1],
      ]),
    ]) {
      const [, , clients] = summaryCharts(sources(table));
      const [s] = clients?.spec.series ?? [];
      expect(s && rangeFormula(s.categories.ref)).toBe("'By client'!$A$2:$A$3");
    }
  });

  it(`shows only the first ${MAX_CLIENT_BARS} clients (the busiest) and says so in the title`, () => {
    const many = clientTable(
      Array.from({ length: 45 }, (_, i): [string, string, number, number] => [
        `c${i}`,
        `Client ${i}`,
        100 - i,
        i,
      ]),
    );
    const [, , clients] = summaryCharts(sources(many));
    expect(clients?.spec.title).toBe(`Failure rate per client (top ${MAX_CLIENT_BARS} of 45 by validations)`);
    const [s] = clients?.spec.series ?? [];
    expect(s && rangeFormula(s.values.ref)).toBe(`'By client'!$E$2:$E$${MAX_CLIENT_BARS + 1}`);
    expect(s?.values.values).toHaveLength(MAX_CLIENT_BARS);
  });

  it('leaves out a chart whose table is empty (no statuses, no clients) and keeps the others', () => {
    const charts = summaryCharts(
      sources(clientTable([]), {
        byStatus: { sheet: 'Summary', table: { ...statusTable, rows: [] }, headerRow: 23 },
      }),
    );
    expect(charts.map((c) => c.spec.title)).toEqual(['Validations per hour (Europe/Madrid)']);
  });

  it('stacks the charts right of the tables without overlapping, each named', () => {
    const charts = summaryCharts(sources(twoClients));
    expect(charts.map((c) => c.anchor.name)).toEqual(['Chart 1', 'Chart 2', 'Chart 3']);
    for (const [i, c] of charts.entries()) {
      expect(c.anchor.from.col).toBeGreaterThanOrEqual(8); // right of columns A–H
      expect(c.anchor.to.row).toBeGreaterThan(c.anchor.from.row);
      const next = charts[i + 1];
      if (next) expect(next.anchor.from.row).toBeGreaterThan(c.anchor.to.row);
    }
  });

  it('fails loudly when a table lacks a column a chart needs', () => {
    const renamed = { ...hourTable, headers: ['Hour', 'Count', 'Failed', 'Failed %'] };
    expect(() =>
      summaryCharts(sources(twoClients, { byHour: { sheet: 'By hour', table: renamed, headerRow: 1 } })),
    ).toThrow(/no column "Validations"/);
  });
});
