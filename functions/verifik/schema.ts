/**
 * The one schema for what crosses the Verifik boundary: the validation record, both documented
 * list envelopes, and both error bodies. Strict about shape where the report depends on it
 * (`_id`, `status`, `createdAt`), tolerant (nullish) about every optional field.
 */
import { z } from 'zod';

const isoInstant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO 8601 instant' });

/** `client`, `project` and `livenessSession` arrive as populated objects or as plain id strings. */
export const Reference = z.union([
  z.string(),
  z.object({
    _id: z.string(),
    name: z.string().nullish(),
    email: z.string().nullish(),
  }),
]);
export type Reference = z.infer<typeof Reference>;

export const BiometricValidation = z.object({
  _id: z.string().min(1),
  client: Reference.nullish(),
  project: Reference.nullish(),
  status: z.string().min(1),
  type: z.string().nullish(),
  identifier: z.string().nullish(),
  livenessSession: Reference.nullish(),
  expiresAt: isoInstant.nullish(),
  requires2FA: z.boolean().nullish(),
  ipAddress: z.string().nullish(),
  biometricData: z
    .object({
      quality: z.string().nullish(),
      livenessScore: z.number().nullish(),
    })
    .nullish(),
  verificationResults: z
    .object({
      livenessDetection: z.string().nullish(),
      identityMatch: z.string().nullish(),
      qualityScore: z.number().nullish(),
      antiSpoofing: z.string().nullish(),
    })
    .nullish(),
  riskScore: z.number().nullish(),
  createdAt: isoInstant,
  updatedAt: isoInstant.nullish(),
  completedAt: isoInstant.nullish(),
});
export type BiometricValidation = z.infer<typeof BiometricValidation>;

/** The seed page's envelope: `{ success, data: [...], pagination }`. */
export const SeedEnvelope = z.object({
  success: z.literal(true).optional(),
  data: z.array(z.unknown()),
  pagination: z.object({
    page: z.number().int().min(1),
    perPage: z.number().int().min(1),
    total: z.number().int().min(0),
    pages: z.number().int().min(0),
  }),
});

/** The backend module's envelope: `{ data: { docs, total, limit, page, pages } }`. */
export const ModuleEnvelope = z.object({
  data: z.object({
    docs: z.array(z.unknown()),
    total: z.number().int().min(0),
    limit: z.number().int().min(1),
    page: z.number().int().min(1),
    pages: z.number().int().min(0),
  }),
});

/** A documented empty result without pagination metadata. */
export const EmptyEnvelope = z.object({ data: z.array(z.unknown()).length(0) });

/** The seed's error body and the backend module's error body. */
export const ErrorBody = z.union([
  z.object({ success: z.literal(false), error: z.string(), code: z.string().optional() }),
  z.object({ code: z.string(), message: z.string() }),
]);
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A page, normalised from whichever envelope the server used. `total`/`pages` are null when unknown. */
export interface Page {
  records: BiometricValidation[];
  page: number;
  perPage: number | null;
  total: number | null;
  pages: number | null;
  envelope: 'seed' | 'module' | 'empty';
}

/** The id and display name of a reference, whichever form it came in. */
export function refId(ref: Reference | null | undefined): string | null {
  if (ref == null) return null;
  return typeof ref === 'string' ? ref : ref._id;
}

export function refName(ref: Reference | null | undefined): string | null {
  if (ref == null || typeof ref === 'string') return null;
  return ref.name ?? null;
}
