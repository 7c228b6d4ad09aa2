/**
 * Opens a fanned-out report's assembled workbook in LibreOffice (issue 13), beside the single
 * run's workbook of the same window, and compares what LibreOffice reads: every sheet exported
 * to CSV, the Validations rows concatenated in tab order, the other sheets but Summary sheet by
 * sheet. A script, not part of `npm test` (LibreOffice takes seconds a file):
 *
 *   npx tsx dev/fanout/libreoffice-check.ts        # needs `soffice` (Debian: libreoffice-calc-nogui)
 *
 * Exits 0 when LibreOffice opens both files and reads the same rows, 1 otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { FILE_CATALOGUE } from '../../functions/contract.js';
import { runReport } from '../../functions/core/pipeline.js';
import type { ReportRequest } from '../../functions/core/request.js';
import { createS3Client } from '../../functions/delivery/aws-clients.js';
import { createS3Sink } from '../../functions/delivery/sink/index.js';
import { runFanOutLocally } from '../../functions/fanout/driver-local.js';
import { reportWindow } from '../../functions/time/window.js';
import { createVerifikClient } from '../../functions/verifik/client.js';
import { startMoto } from '../../test/support/moto.js';
import { createDataset } from '../fake-verifik/generator.js';
import { startFakeVerifik } from '../fake-verifik/server.js';

const TZ = 'Europe/Madrid';
const window = reportWindow('2024-10-25', '2024-10-30', TZ);
const BUCKET = 'libreoffice-check';
const request: ReportRequest = {
  definition: 'on-demand',
  window,
  statuses: [],
  types: [],
  clients: [],
  formats: ['xlsx'],
};

const moto = await startMoto();
const s3 = createS3Client(moto.clientConfig);
await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
const dataset = createDataset({
  seed: 13,
  count: 20_000,
  start: window.start,
  end: window.end,
  timeZone: TZ,
});
const fake = await startFakeVerifik({ dataset, token: 'lo-token' });
const verifik = createVerifikClient({ baseUrl: fake.url, token: fake.token });
const now = () => new Date('2024-11-02T08:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'fanout-libreoffice-'));
let ok = true;
try {
  const sink = (id: string) =>
    createS3Sink({ s3, bucket: BUCKET, definition: 'on-demand', window, reportId: id });
  await runReport({ request, reportId: 'single', verifik, sink: sink('single'), now, renderThread: false });
  const fanned = await runFanOutLocally({
    request,
    reportId: 'fanned',
    verifik,
    s3,
    bucket: BUCKET,
    now,
    renderThread: false,
    model: {
      lambdaSeconds: 0.2,
      secondsPerPage: 0.001,
      rowsPerSecond: 50_000,
      concurrency: 4,
      maxRowsPerSlice: 4000,
    },
  });
  console.log(`fanned out into ${fanned.plan.slices.length} slices`);
  const sheetsOf = async (id: string): Promise<Map<string, string[]>> => {
    const key = `${sink(id).keyPrefix}${FILE_CATALOGUE.xlsx.name}`;
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const out = join(dir, id);
    execFileSync('mkdir', ['-p', out]);
    const file = join(out, `${id}.xlsx`);
    writeFileSync(
      file,
      await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    // Filter options: comma, quote, UTF-8, from line 1, …, sheet -1 = every sheet to its own file.
    execFileSync(
      'soffice',
      [
        '--headless',
        '--convert-to',
        'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1',
        '--outdir',
        out,
        file,
      ],
      { stdio: 'ignore', timeout: 300_000 },
    );
    const sheets = new Map<string, string[]>();
    for (const f of readdirSync(out).filter((n) => n.endsWith('.csv'))) {
      const name = f.slice(`${id}-`.length, -'.csv'.length);
      sheets.set(name, readFileSync(join(out, f), 'utf8').split('\n').filter(Boolean));
    }
    return sheets;
  };
  const a = await sheetsOf('single');
  const b = await sheetsOf('fanned');
  const validations = (m: Map<string, string[]>) =>
    [...m.keys()]
      .filter((n) => n.startsWith('Validations'))
      .sort((x, y) => Number(/\((\d+)\)/.exec(x)?.[1] ?? 1) - Number(/\((\d+)\)/.exec(y)?.[1] ?? 1))
      .flatMap((n, i) => (m.get(n) ?? []).slice(i === 0 ? 0 : 1));
  const va = validations(a);
  const vb = validations(b);
  console.log(
    `LibreOffice read ${va.length - 1} validation rows from the single run, ${vb.length - 1} from the assembled file`,
  );
  if (va.length < 2 || va.join('\n') !== vb.join('\n')) ok = false;
  for (const name of ['By client', 'By project', 'By hour', 'Highest risk']) {
    const same = (a.get(name) ?? []).join('\n') === (b.get(name) ?? []).join('\n') && a.has(name);
    console.log(`${name}: ${same ? 'same' : 'DIFFERENT'}`);
    if (!same) ok = false;
  }
  console.log(`sheets: ${[...b.keys()].sort().join(', ')}`);
} finally {
  s3.destroy();
  await fake.close();
  await moto.stop();
}
console.log(ok ? 'OK: LibreOffice opens the assembled workbook and reads the single run’s rows' : 'MISMATCH');
process.exit(ok ? 0 : 1);
