/**
 * Backing off together (issue 13): `npm run bench -- --only backoff`.
 *
 * 8 slices of one report read at once, each with its fixed share of 4 requests in flight (the
 * report's budget of 32), from one fake Verifik at 200 ms a page. Twice against an account that
 * allows everything (what coordination costs when nothing is refused) and twice against one that
 * refuses a 17th request in flight with 429, without and with `Retry-After: 1` (what it saves):
 * each time alone (every slice has only
 * its own AIMD) and shared through the DynamoDB board on moto (verifik/read/shared-backoff.ts),
 * the way slices on Step Functions share it. All slices read the same pre-rendered pages: what is
 * measured is requests against one account, not the fake's rendering.
 */
import { createDynamoDocClient } from '../functions/delivery/aws-clients.js';
import { DynamoBackoffBoard } from '../functions/delivery/state/backoff-board.js';
import { dayWindow } from '../functions/time/window.js';
import { createVerifikClient } from '../functions/verifik/client.js';
import { VerifikRateLimitedError } from '../functions/verifik/errors.js';
import { readWindow } from '../functions/verifik/read/index.js';
import {
  type BackoffBoard,
  type BoardState,
  CoordinatedBackoff,
  type SharedBackoffStats,
} from '../functions/verifik/read/shared-backoff.js';
import { startMoto } from '../test/support/moto.js';
import { fmt, ratio, spawnFake } from './support.js';

const DAY = '2024-12-01';
const TZ = 'UTC';
const TABLE = 'bench-backoff';

/** Counts the board's requests and the time they took (the cost of coordination). */
class CountingBoard implements BackoffBoard {
  requests = 0;
  ms = 0;
  constructor(private readonly inner: BackoffBoard) {}
  private async timed<T>(f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await f();
    } finally {
      this.requests++;
      this.ms += performance.now() - t;
    }
  }
  swap(epoch: number, next: BoardState): Promise<boolean> {
    return this.timed(() => this.inner.swap(epoch, next));
  }
  read(): Promise<BoardState | null> {
    return this.timed(() => this.inner.read());
  }
}

interface Outcome {
  wallMs: number;
  pages: number;
  refused: number;
  /** Slices whose retries ran out on 429s (the Map would retry them). */
  failed: number;
  lowest: number;
  board: { requests: number; ms: number } | null;
  stats: SharedBackoffStats[];
}

export async function benchBackoff(opts: {
  slices: number;
  perSlice: number;
  records: number;
  perPage: number;
  latencyMs: number;
  limit: number;
}) {
  const window = dayWindow(DAY, TZ);
  const moto = await startMoto();
  await moto.createStateTable(TABLE);
  const doc = createDynamoDocClient(moto.clientConfig);
  const common = {
    count: opts.records,
    seed: 3,
    date: DAY,
    timeZone: TZ,
    latencyMs: opts.latencyMs,
    prerender: [opts.perPage],
  };
  const open = await spawnFake(common);
  const limited = await spawnFake({ ...common, maxConcurrent: opts.limit });
  const told = await spawnFake({ ...common, maxConcurrent: opts.limit, retryAfterS: 1 });
  let run = 0;
  const scenario = async (fake: { url: string; token: string }, shared: boolean): Promise<Outcome> => {
    const board = shared ? new CountingBoard(new DynamoBackoffBoard(doc, TABLE, `bench-${++run}`)) : null;
    const started = performance.now();
    const reads = await Promise.all(
      Array.from({ length: opts.slices }, async () => {
        const coordinated = board ? new CoordinatedBackoff(board, { share: opts.perSlice }) : undefined;
        let refused = 0;
        const client = createVerifikClient({
          baseUrl: fake.url,
          token: fake.token,
          onRetry: (info) => {
            if (info.status === 429) refused++;
          },
        });
        const r = readWindow(client, {
          window,
          perPage: opts.perPage,
          concurrency: opts.perSlice,
          ...(coordinated ? { sharedBackoff: coordinated } : {}),
        });
        try {
          let rows = 0;
          for await (const batch of r.batches) rows += batch.length;
          if (rows !== opts.records) throw new Error(`a slice read ${rows} of ${opts.records} records`);
          const d = await r.diagnostics;
          return {
            ok: true,
            pages: d.pages,
            refused: d.rateLimited,
            lowest: d.lowestConcurrency,
            stats: coordinated?.stats,
          };
        } catch (err) {
          // A slice whose retries ran out: what the Map would retry; counted, not fatal to the bench.
          if (!(err instanceof VerifikRateLimitedError)) throw err;
          return { ok: false, pages: 0, refused: refused + 1, lowest: 1, stats: coordinated?.stats };
        }
      }),
    );
    return {
      wallMs: performance.now() - started,
      pages: reads.reduce((n, r) => n + r.pages, 0),
      refused: reads.reduce((n, r) => n + r.refused, 0),
      failed: reads.filter((r) => !r.ok).length,
      lowest: Math.min(...reads.map((r) => r.lowest)),
      board: board ? { requests: board.requests, ms: board.ms } : null,
      stats: reads.flatMap((r) => (r.stats ? [r.stats] : [])),
    };
  };
  try {
    const rows: Array<[string, Outcome]> = [];
    for (const [name, fake, shared] of [
      ['no limit, alone', open, false],
      ['no limit, shared board', open, true],
      [`limit ${opts.limit}, alone`, limited, false],
      [`limit ${opts.limit}, shared board`, limited, true],
      [`limit ${opts.limit} + Retry-After: 1, alone`, told, false],
      [`limit ${opts.limit} + Retry-After: 1, shared board`, told, true],
    ] as const) {
      const o = await scenario(fake, shared);
      process.stderr.write(
        `  ${name}: ${fmt(o.wallMs / 1000, 1)} s, ${o.refused} × 429, ${o.failed} slices out of retries\n`,
      );
      rows.push([name, o]);
    }
    const floor = (budget: number) =>
      ((opts.slices * Math.ceil(opts.records / opts.perPage)) / budget) * (opts.latencyMs / 1000);
    const line = ([name, o]: [string, Outcome]) => {
      const followed = o.stats.reduce((n, s) => n + s.followed, 0);
      const paused = o.stats.reduce((n, s) => n + s.pausedMs, 0);
      const board = o.board
        ? `${o.board.requests} (${fmt(o.board.requests / (o.wallMs / 1000) / opts.slices, 2)}/s a slice), ${fmt(o.board.ms / Math.max(1, o.board.requests), 1)} ms each`
        : '—';
      return `| ${name} | ${fmt(o.wallMs / 1000, 1)} s | ${o.pages} | ${o.refused} | ${o.failed} | ${o.lowest} | ${board} | ${o.stats.length ? `${followed} / ${fmt(paused / 1000, 1)} s` : '—'} |`;
    };
    const [openAlone, openShared, limAlone, limShared, toldAlone, toldShared] = rows.map((r) => r[1]) as [
      Outcome,
      Outcome,
      Outcome,
      Outcome,
      Outcome,
      Outcome,
    ];
    console.log(
      [
        `${opts.slices} slices × ${opts.perSlice} in flight (budget ${opts.slices * opts.perSlice}), ${opts.records.toLocaleString('en')} records each at ${opts.perPage} a page, ${opts.latencyMs} ms a page; board = DynamoDB on moto, read every 1 s by each slice`,
        `read's floor: ${fmt(floor(opts.slices * opts.perSlice), 1)} s at the budget, ${fmt(floor(opts.limit), 1)} s at the limit of ${opts.limit}`,
        '',
        '| scenario | wall | pages | 429s | slices out of retries | lowest level | board requests | followed / paused (all slices) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...rows.map(line),
        '',
        `cost of coordination with nothing refused: shared ÷ alone wall time = ${fmt(ratio(openShared.wallMs, openAlone.wallMs), 3)}×`,
        `under the limit: 429s alone ÷ shared = ${fmt(ratio(limAlone.refused, Math.max(1, limShared.refused)), 1)}×; ${limAlone.failed || limShared.failed ? `slices out of retries: ${limAlone.failed} alone, ${limShared.failed} shared` : `wall time shared ÷ alone = ${fmt(ratio(limShared.wallMs, limAlone.wallMs), 2)}×`}`,
        `under the limit with Retry-After: 429s alone ÷ shared = ${fmt(ratio(toldAlone.refused, Math.max(1, toldShared.refused)), 1)}×; ${toldAlone.failed || toldShared.failed ? `slices out of retries: ${toldAlone.failed} alone, ${toldShared.failed} shared (a wall time with failed slices is no comparison)` : `wall time shared ÷ alone = ${fmt(ratio(toldShared.wallMs, toldAlone.wallMs), 2)}×`}`,
      ].join('\n'),
    );
    return rows;
  } finally {
    await Promise.all([open.stop(), limited.stop(), told.stop()]);
    doc.destroy();
    await moto.stop();
  }
}
