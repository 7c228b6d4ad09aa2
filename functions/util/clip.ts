/**
 * At most `max` characters: longer text keeps `max - 1` and ends with an ellipsis, so a reader
 * sees it was cut. One helper for every bounded message (chat fields, error excerpts, refusals).
 */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
