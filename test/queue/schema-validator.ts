import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { SCHEMA_FILE } from '../../scripts/write-job-schema.js';

/**
 * A validator compiled from the published file (not from the source object),
 * the way a contact centre would use it: what tests check is what we publish.
 */
export function publishedSchemaValidator(): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
}
