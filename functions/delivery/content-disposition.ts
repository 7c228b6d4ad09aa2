/**
 * `Content-Disposition: attachment` with a file name every browser and mail client gets right:
 * a plain ASCII `filename` for old clients and an RFC 5987 `filename*` for the exact name.
 */

/** Characters that would break the quoted-string or leave ASCII become `_`. */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
}

/** RFC 5987 value-chars: encodeURIComponent leaves a few that the attr-char grammar does not allow. */
function rfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function attachmentDisposition(fileName: string): string {
  // Clients that understand filename* prefer it; the others use the ASCII fallback.
  return `attachment; filename="${asciiFallback(fileName)}"; filename*=UTF-8''${rfc5987(fileName)}`;
}
