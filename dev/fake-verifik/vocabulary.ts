/**
 * The values the generator draws from, with weights chosen to look like a real day of
 * biometric validations: mostly finished checks, a steady share of failures, a rare status
 * nobody documented, people's names in many scripts, and a few identifiers that a
 * spreadsheet program would execute as formulas if a report wrote them unescaped.
 */

/** Every documented status plus one undocumented (the set is open, reports must keep it). */
export const STATUSES = [
  'new',
  'sent',
  'pending',
  'validated',
  'completed',
  'failed',
  'expired',
  'under_review',
];
export const STATUS_WEIGHTS = [10, 9, 8, 18, 34, 12, 8, 1];
/** Statuses of a check that ran to its end: these have results and a `completedAt`. */
export const FINISHED = new Set(['validated', 'completed', 'failed']);

export const TYPES = ['validation', 'login', 'onboarding', 'oneTimeLink', 'liveness'];
/** The last weight is "type missing or null" (about 1%). */
export const TYPE_WEIGHTS = [33, 30, 15, 11, 10, 1];

/** Relative activity per local hour of day: quiet at night, peaks mid-morning and mid-afternoon. */
export const HOUR_CURVE = [
  0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.7, 1.1, 1.5, 1.7, 1.6, 1.2, 1.1, 1.4, 1.6, 1.5, 1.3, 1.0, 0.8,
  0.6, 0.45, 0.3, 0.2,
];

export const CLIENT_NAMES = [
  'Banco Andino S.A.',
  'Müller Versicherungen AG',
  'Tienda Ñandú',
  'Çınar Fintech',
  '田中商事株式会社',
  'Łódź Mobility',
  'Nguyễn Pay',
  "O'Brien & Søn Ltd",
];
export const CLIENT_DOMAINS = [
  'bancoandino.co',
  'mueller-versicherungen.de',
  'nandu.com.co',
  'cinarfintech.com.tr',
  'tanaka-shoji.jp',
  'lodzmobility.pl',
  'nguyenpay.vn',
  'obrienson.ie',
];
export const PROJECT_NAMES = ['Onboarding app', 'Login web', 'KYC premium', 'Cajeros', 'Portal clientes'];
export const PROJECT_DESCRIPTIONS = [
  'Alta de clientes desde la app móvil',
  'Inicio de sesión biométrico',
  'Verificación reforzada — cuentas premium',
  'Retiros sin tarjeta',
  'Autogestión de clientes',
];

export const FIRST_NAMES = [
  'josé',
  'maría',
  'ana',
  'carlos',
  'lukas',
  'zoë',
  'çağrı',
  'søren',
  'łukasz',
  'nguyễn',
  '田中',
  'andrés',
  'camila',
  'jürgen',
  'sofía',
  'wei',
];
export const LAST_NAMES = [
  'garcía',
  'müller',
  'pérez',
  'rodríguez',
  'yılmaz',
  'o.brien',
  'nørgaard',
  'kowalski',
  'trần',
  '太郎',
  'gómez',
  'schäfer',
];
export const MAIL_DOMAINS = [
  'gmail.com',
  'hotmail.com',
  'outlook.es',
  'yahoo.com',
  'empresa.com.co',
  'web.de',
];
/** Country prefixes with their national number lengths: Colombia dominates. */
export const PHONE_PLANS: readonly { prefix: string; digits: number; weight: number }[] = [
  { prefix: '+57', digits: 10, weight: 60 },
  { prefix: '+52', digits: 10, weight: 15 },
  { prefix: '+1', digits: 10, weight: 10 },
  { prefix: '+34', digits: 9, weight: 8 },
  { prefix: '+49', digits: 11, weight: 7 },
];

/**
 * Identifiers that a spreadsheet would evaluate (OWASP CSV injection). Real users type odd
 * things into forms; a report must render these as text, never as formulas.
 */
export const FORMULA_LIKE = [
  '=HYPERLINK("http://x","y")',
  '=1+1',
  '@foo',
  '-1+1',
  '+1-1',
  "=cmd|' /C calc'!A0",
  '\t=SUM(A1:A2)',
];

export const QUALITIES = ['excellent', 'good', 'good', 'fair', 'poor'];
export const LANGUAGES = ['es', 'es', 'es', 'en', 'pt'];
