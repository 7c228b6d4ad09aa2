/**
 * The small parts of an assembled workbook, made by the single-run writer itself so the two can
 * never disagree: `createXlsxWriter` with the merged summary and one one-row Validations sheet per
 * sheet the slices wrote (`maxRowsPerSheet: 2`). Everything in it but those placeholder sheets
 * (Summary and its charts, breakdowns, styles, theme, workbook.xml with the tab names in order,
 * relationships, content types, document properties) goes into the final file as it is.
 */
import { Writable } from 'node:stream';
import { flatten } from '../report/columns.js';
import type { ReportContext } from '../report/context.js';
import { createXlsxWriter } from '../report/xlsx.js';
import { validationsSheetTargets } from './slice-worker.js';
import { entryBytes, readCentralDirectory, ZipFormatError } from './zip.js';

export interface Template {
  zip: Buffer;
  /** The placeholder Validations sheets in tab order: the names and paths the slices' sheets take. */
  validations: Array<{ name: string; path: string }>;
}

export async function renderTemplate(ctx: ReportContext, sheets: number): Promise<Template> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const writer = createXlsxWriter(out, {
    timeZone: ctx.window.timeZone,
    maxRowsPerSheet: 2,
    fileName: 'workbook template',
  });
  const placeholder = flatten({
    _id: 'placeholder',
    createdAt: ctx.window.start.toISOString(),
    status: 'placeholder',
  } as never);
  for (let i = 0; i < sheets; i++) await writer.write(placeholder);
  await writer.finish(ctx);
  await new Promise<void>((resolve, reject) => {
    if (out.writableFinished) resolve();
    else out.once('finish', resolve).once('error', reject);
  });
  const zip = Buffer.concat(chunks);
  const entries = new Map(readCentralDirectory(zip, zip.length).map((e) => [e.name, e]));
  const text = (name: string) => {
    const e = entries.get(name);
    if (!e) throw new ZipFormatError(`the workbook template has no ${name}`);
    return entryBytes(zip, e).toString('utf8');
  };
  const validations = validationsSheetTargets(text('xl/workbook.xml'), text('xl/_rels/workbook.xml.rels'));
  if (validations.length !== sheets) {
    throw new ZipFormatError(`the template has ${validations.length} Validations tabs, ${sheets} needed`);
  }
  return { zip, validations };
}
