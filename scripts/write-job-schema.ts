/**
 * Writes the published JSON Schema of routing jobs,
 * schemas/call-routing-job.v1.schema.json, from src/queue/job-json-schema.ts
 * (the source the worker validates with). test/queue/job-json-schema.test.ts
 * fails when the file is out of date.
 *
 *   npx tsx scripts/write-job-schema.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CALL_ROUTING_JOB_SCHEMA } from '../src/queue/job-json-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schemas/call-routing-job.v1.schema.json', import.meta.url));

/** The file's exact text: two-space JSON and a final newline. */
export function schemaFileText(): string {
  return `${JSON.stringify(CALL_ROUTING_JOB_SCHEMA, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaFileText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
