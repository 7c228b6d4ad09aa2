/**
 * The few zip structures the workbook assembler reads and writes (PKWARE APPNOTE 6.3.x): local
 * file headers, the central directory and its end records, Zip64 where a size or offset needs it.
 *
 * Hand-written on purpose: the zip libraries at hand (archiver/zip-stream, jszip, yazl) compress
 * the entries they write themselves; none writes a central directory for entries whose compressed
 * bytes are elsewhere (in S3, copied server-side) and known only by their CRC and sizes. Every
 * structure here is checked by the tests against Python's zipfile and openpyxl.
 */
import { inflateRawSync } from 'node:zlib';
import { ReportsError } from '../errors/kinds.js';

export class ZipFormatError extends ReportsError {
  override readonly kind = 'output';
  override name = 'ZipFormatError';
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
const DEFLATE = 8;

/** An entry as the central directory describes it. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of its local header in the archive. */
  localHeaderOffset: number;
}

/** Where an entry's compressed bytes start, given the first bytes of its local header (≥ 30). */
export function dataOffset(entryOffset: number, localHeader: Buffer): number {
  if (localHeader.length < 30 || localHeader.readUInt32LE(0) !== LOCAL_SIG) {
    throw new ZipFormatError(`no local file header at offset ${entryOffset}`);
  }
  return entryOffset + 30 + localHeader.readUInt16LE(26) + localHeader.readUInt16LE(28);
}

/**
 * The central directory of an archive of `archiveSize` bytes from its last bytes (`tail`), which
 * must hold the whole directory and its end records. Reads Zip64 end records and extra fields.
 */
export function readCentralDirectory(tail: Buffer, archiveSize: number): ZipEntry[] {
  const tailStart = archiveSize - tail.length;
  let eocd = -1;
  for (let i = tail.length - 22; i >= Math.max(0, tail.length - 22 - MAX16); i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no end of central directory record in the archive tail');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG)
      throw new ZipFormatError('Zip64 locator missing');
    const z64 = Number(tail.readBigUInt64LE(loc + 8)) - tailStart;
    if (z64 < 0 || tail.readUInt32LE(z64) !== ZIP64_EOCD_SIG)
      throw new ZipFormatError('Zip64 end record outside the tail');
    count = Number(tail.readBigUInt64LE(z64 + 32));
    cdSize = Number(tail.readBigUInt64LE(z64 + 40));
    cdOffset = Number(tail.readBigUInt64LE(z64 + 48));
  }
  let p = cdOffset - tailStart;
  if (p < 0) throw new ZipFormatError('the central directory starts before the archive tail read');
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (tail.readUInt32LE(p) !== CENTRAL_SIG)
      throw new ZipFormatError(`central directory entry ${i} is corrupt`);
    const nameLen = tail.readUInt16LE(p + 28);
    const extraLen = tail.readUInt16LE(p + 30);
    const commentLen = tail.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: tail.toString('utf8', p + 46, p + 46 + nameLen),
      method: tail.readUInt16LE(p + 10),
      crc32: tail.readUInt32LE(p + 16),
      compressedSize: tail.readUInt32LE(p + 20),
      size: tail.readUInt32LE(p + 24),
      localHeaderOffset: tail.readUInt32LE(p + 42),
    };
    // Zip64 extended information: the 8-byte values of the fields set to 0xFFFFFFFF, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = tail.readUInt16LE(x);
      const len = tail.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (entry.size === MAX32) {
          entry.size = Number(tail.readBigUInt64LE(q));
          q += 8;
        }
        if (entry.compressedSize === MAX32) {
          entry.compressedSize = Number(tail.readBigUInt64LE(q));
          q += 8;
        }
        if (entry.localHeaderOffset === MAX32) entry.localHeaderOffset = Number(tail.readBigUInt64LE(q));
      }
      x += 4 + len;
    }
    entries.push(entry);
    p = xEnd + commentLen;
  }
  return entries;
}

/** The uncompressed bytes of an entry held in `archive` (small entries only: read whole). */
export function entryBytes(archive: Buffer, entry: ZipEntry): Buffer {
  const start = dataOffset(entry.localHeaderOffset, archive.subarray(entry.localHeaderOffset));
  const raw = archive.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return Buffer.from(raw);
  if (entry.method !== DEFLATE) throw new ZipFormatError(`${entry.name}: compression method ${entry.method}`);
  return inflateRawSync(raw);
}

/** DOS date and time of an instant (local fields taken in UTC: the zip format has no zone). */
function dosDateTime(at: Date): { time: number; date: number } {
  const y = Math.max(1980, at.getUTCFullYear());
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((y - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}

export interface EntrySpec {
  name: string;
  crc32: number;
  compressedSize: number;
  size: number;
  method?: number;
}

const needs64 = (e: EntrySpec, force: boolean) => force || e.size >= MAX32 || e.compressedSize >= MAX32;

/**
 * A local file header with the CRC and sizes in it (no data descriptor: they are known), Zip64
 * sizes when either size needs them.
 */
export function localHeader(e: EntrySpec, at: Date, opts: { forceZip64?: boolean } = {}): Buffer {
  const name = Buffer.from(e.name, 'utf8');
  const z64 = needs64(e, opts.forceZip64 ?? false);
  const extra = z64 ? Buffer.alloc(20) : Buffer.alloc(0);
  if (z64) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(16, 2);
    extra.writeBigUInt64LE(BigInt(e.size), 4);
    extra.writeBigUInt64LE(BigInt(e.compressedSize), 12);
  }
  const h = Buffer.alloc(30);
  const { time, date } = dosDateTime(at);
  h.writeUInt32LE(LOCAL_SIG, 0);
  h.writeUInt16LE(z64 ? 45 : 20, 4);
  h.writeUInt16LE(0x0800, 6); // names are UTF-8
  h.writeUInt16LE(e.method ?? DEFLATE, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt32LE(e.crc32 >>> 0, 14);
  h.writeUInt32LE(z64 ? MAX32 : e.compressedSize, 18);
  h.writeUInt32LE(z64 ? MAX32 : e.size, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, name, extra]);
}

export interface PlacedEntry extends EntrySpec {
  localHeaderOffset: number;
}

/**
 * The central directory and its end records for entries placed at their offsets, the directory
 * itself starting at `offset`. Zip64 fields and end records are written where a value does not
 * fit its 16 or 32 bits (or always, with `forceZip64`, which the tests use to check readers).
 */
export function centralDirectory(
  entries: readonly PlacedEntry[],
  offset: number,
  at: Date,
  opts: { forceZip64?: boolean } = {},
): Buffer {
  const force = opts.forceZip64 ?? false;
  const { time, date } = dosDateTime(at);
  const records: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const bigSize = force || e.size >= MAX32;
    const bigCsize = force || e.compressedSize >= MAX32;
    const bigOffset = force || e.localHeaderOffset >= MAX32;
    const z64: bigint[] = [];
    if (bigSize) z64.push(BigInt(e.size));
    if (bigCsize) z64.push(BigInt(e.compressedSize));
    if (bigOffset) z64.push(BigInt(e.localHeaderOffset));
    const extra = Buffer.alloc(z64.length ? 4 + 8 * z64.length : 0);
    if (z64.length) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(8 * z64.length, 2);
      for (const [i, v] of z64.entries()) extra.writeBigUInt64LE(v, 4 + 8 * i);
    }
    const h = Buffer.alloc(46);
    h.writeUInt32LE(CENTRAL_SIG, 0);
    h.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, spec 4.5
    h.writeUInt16LE(z64.length || needs64(e, force) ? 45 : 20, 6);
    h.writeUInt16LE(0x0800, 8);
    h.writeUInt16LE(e.method ?? DEFLATE, 10);
    h.writeUInt16LE(time, 12);
    h.writeUInt16LE(date, 14);
    h.writeUInt32LE(e.crc32 >>> 0, 16);
    h.writeUInt32LE(bigCsize ? MAX32 : e.compressedSize, 20);
    h.writeUInt32LE(bigSize ? MAX32 : e.size, 24);
    h.writeUInt16LE(name.length, 28);
    h.writeUInt16LE(extra.length, 30);
    // comment length, disk number, internal attributes: 0
    h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: a regular file, rw-r--r--
    h.writeUInt32LE(bigOffset ? MAX32 : e.localHeaderOffset, 42);
    records.push(h, name, extra);
  }
  const cd = Buffer.concat(records);
  const count = entries.length;
  const tailParts: Buffer[] = [];
  const z64End = force || count >= MAX16 || cd.length >= MAX32 || offset >= MAX32;
  if (z64End) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(ZIP64_EOCD_SIG, 0);
    rec.writeBigUInt64LE(44n, 4); // size of the rest of this record
    rec.writeUInt16LE((3 << 8) | 45, 12);
    rec.writeUInt16LE(45, 14);
    // disk numbers: 0
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(ZIP64_LOCATOR_SIG, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16); // total disks
    tailParts.push(rec, loc);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD_SIG, 0);
  end.writeUInt16LE(z64End ? MAX16 : count, 8);
  end.writeUInt16LE(z64End ? MAX16 : count, 10);
  end.writeUInt32LE(z64End ? MAX32 : cd.length, 12);
  end.writeUInt32LE(z64End ? MAX32 : offset, 16);
  tailParts.push(end);
  return Buffer.concat([cd, ...tailParts]);
}
