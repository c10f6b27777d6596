/** Placeholders a script may use; anything else in braces is a playbook error. */
export const KNOWN_PLACEHOLDERS = ['customerName', 'agentName', 'companyName'] as const;
export type Placeholder = (typeof KNOWN_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The placeholder names used in `text`, in order (duplicates kept). */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/**
 * Fills `{name}` placeholders from `values`. An unknown or blank value is
 * removed together with the comma that goes with it, so
 * `"{customerName}, I hear you"` reads `"I hear you"` and
 * `"I understand, {customerName}, and…"` reads `"I understand, and…"`
 * (same for the Chinese full-width comma). Values are used as plain text.
 */
export function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  const filled = text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = values[name];
    return v === undefined ? '\u0000' : v.trim() === '' ? '\u0000' : v.trim();
  });
  if (!filled.includes('\u0000')) return filled;
  const tidied = filled
    // "X, {gone}, and" → "X, and"; "X, {gone}." → "X."
    .replace(/[,，]\s*\u0000(?=\s*[,，.。!！?？])/g, '')
    // "{gone}, I hear" at the start (or after a sentence end) → "I hear"
    .replace(/\u0000\s*[,，]\s*/g, '')
    .replace(/\u0000/g, '')
    .replace(/\s{2,}/g, ' ')
    .trim();
  // A sentence that now starts with a lower-case letter gets a capital.
  return tidied.replace(/(^|[.!?]\s+)([a-z])/g, (_m, pre: string, c: string) => pre + c.toUpperCase());
}
