/**
 * How a file made of pieces (bytes in memory, byte ranges of objects already in S3) becomes the
 * parts of one multipart upload, moving as few bytes as possible: a range of at least 5 MiB is an
 * `UploadPartCopy` (S3 copies it, nothing passes through here); small pieces are combined into an
 * uploaded part, and a buffered part below 5 MiB is topped up with the first bytes of the next
 * range (a ranged GET of at most 5 MiB), because every part but the last must be ≥ 5 MiB.
 * Pure: `s3-compose.ts` carries a plan out.
 */

export const MiB = 1024 * 1024;
/** S3's limits for multipart parts (the last part may be smaller). */
export const S3_MIN_PART = 5 * MiB;
export const S3_MAX_PART = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;

export type Piece =
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'range'; key: string; start: number; end: number };

/** A part: one server-side copy, or bytes to upload (inline data and ranges to fetch first). */
export type PartPlan =
  | { kind: 'copy'; key: string; start: number; end: number }
  | { kind: 'upload'; segments: Piece[]; bytes: number };

export interface PartLimits {
  minPart: number;
  maxPart: number;
}

const DEFAULT_LIMITS: PartLimits = { minPart: S3_MIN_PART, maxPart: S3_MAX_PART };

export function planParts(pieces: readonly Piece[], limits: Partial<PartLimits> = {}): PartPlan[] {
  const { minPart, maxPart } = { ...DEFAULT_LIMITS, ...limits };
  const parts: PartPlan[] = [];
  let buf: Piece[] = [];
  let bufBytes = 0;
  const flush = () => {
    if (bufBytes > 0) parts.push({ kind: 'upload', segments: buf, bytes: bufBytes });
    buf = [];
    bufBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.kind === 'bytes') {
      if (piece.data.length === 0) continue;
      buf.push(piece);
      bufBytes += piece.data.length;
      if (bufBytes >= minPart) flush();
      continue;
    }
    if (piece.end < piece.start)
      throw new RangeError(`range ${piece.key} [${piece.start}, ${piece.end}) is reversed`);
    let s = piece.start;
    while (s < piece.end) {
      if (bufBytes > 0) {
        // Top the buffered part up to the minimum with this range's first bytes.
        const take = Math.min(piece.end - s, minPart - bufBytes);
        buf.push({ kind: 'range', key: piece.key, start: s, end: s + take });
        bufBytes += take;
        s += take;
        if (bufBytes >= minPart) flush();
        continue;
      }
      const left = piece.end - s;
      if (left < minPart) {
        buf.push({ kind: 'range', key: piece.key, start: s, end: piece.end });
        bufBytes += left;
        s = piece.end;
        continue;
      }
      // Never leave a copy remainder that would have to stand alone below the minimum mid-file:
      // a remainder below it is fetched into the next buffered part instead, which is allowed.
      const take = Math.min(left, maxPart);
      parts.push({ kind: 'copy', key: piece.key, start: s, end: s + take });
      s += take;
    }
  }
  flush();
  if (parts.length > S3_MAX_PARTS) throw new RangeError(`${parts.length} parts exceed S3's ${S3_MAX_PARTS}`);
  return parts;
}

/** Bytes that pass through the assembler (uploaded, and fetched by ranged GETs) for a plan. */
export function bytesMoved(plan: readonly PartPlan[]): { uploaded: number; fetched: number; copied: number } {
  let uploaded = 0;
  let fetched = 0;
  let copied = 0;
  for (const p of plan) {
    if (p.kind === 'copy') copied += p.end - p.start;
    else {
      uploaded += p.bytes;
      for (const s of p.segments) if (s.kind === 'range') fetched += s.end - s.start;
    }
  }
  return { uploaded, fetched, copied };
}
