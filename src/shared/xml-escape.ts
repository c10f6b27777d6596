/**
 * Escapes text for SVG/XML element content and double-quoted attributes.
 * Every picture the project draws (score timelines, bench reports, the
 * validation frontier, confusion matrices, call outcomes) puts labels that
 * come from data — file names, titles, reasons — into its markup.
 */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c);
}
