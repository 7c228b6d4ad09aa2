/** How the console writes numbers, sizes and instants. */
const n = new Intl.NumberFormat('en-US');

export const count = (v: unknown) => (typeof v === 'number' ? n.format(v) : '–');

export function percent(v: unknown): string {
  return typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '–';
}

export function bytes(v: number): string {
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / 1024 / 1024).toFixed(1)} MB`;
}

export function when(iso: string | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/** YYYY-MM-DD of the day `n` days before today, in the browser's zone. */
export function daysAgo(n: number): string {
  const d = new Date(Date.now() - n * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export const yesterday = () => daysAgo(1);

/** A fresh Idempotency-Key: one per action a person starts, so a double click sends once. */
export const newKey = () => crypto.randomUUID();
