/**
 * Reading one environment variable as a typed value, and the checks on
 * values (URLs, hosts, names, secrets). Every reader appends what is wrong
 * to `problems` and returns the fallback, so `loadConfig` can list every
 * problem at once; none throws.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads a variable; unset and blank both mean "use the default". */
export function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got '${value}'`);
    return fallback;
  }
  const n = Number(value);
  if (n < min || n > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
    return fallback;
  }
  return n;
}

export function text(env: Env, name: string, fallback: string, problems: string[], check?: (v: string) => string | undefined): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const problem = check?.(value);
  if (problem !== undefined) {
    problems.push(`${name} ${problem}, got '${value}'`);
    return fallback;
  }
  return value;
}

/** Like `text`, but a rejected value is never echoed into the problem list (it is a secret). */
export function secret(env: Env, name: string, problems: string[], check?: (v: string) => string | undefined): string {
  const value = raw(env, name);
  if (value === undefined) return '';
  const problem = check?.(value);
  if (problem !== undefined) {
    problems.push(`${name} ${problem} (value not shown)`);
    return '';
  }
  return value;
}

export function boolean(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  problems.push(`${name} must be true or false, got '${value}'`);
  return fallback;
}

/** The parsed URL, or undefined when `value` is not one. */
function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export function checkRedisUrl(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === undefined) return 'must be a URL like redis://host:6379';
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return 'must use redis:// or rediss://';
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

export function checkHost(value: string): string | undefined {
  // A hostname or an IPv4/IPv6 literal; no scheme, port or path.
  return /^[A-Za-z0-9.:_-]+$/.test(value) ? undefined : 'must be a host name or IP address (no scheme or port)';
}

export function checkWebhookUrl(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === undefined) return 'must be a URL like https://router.example/undertone';
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must use http:// or https://';
}

export function checkPublicUrl(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === undefined) return 'must be a URL like wss://undertone.example.com';
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) return 'must use ws://, wss://, http:// or https://';
  if (url.search !== '' || url.hash !== '' || !/^\/?$/.test(url.pathname)) return 'must be a base URL without path or query';
  return undefined;
}

export function checkOnOff(value: string): string | undefined {
  return value === 'on' || value === 'off' ? undefined : "must be 'on' or 'off'";
}

export function checkJwtSecret(value: string): string | undefined {
  // HS256 keys shorter than the hash output weaken it (RFC 7518 §3.2).
  return value.length >= 32 ? undefined : 'must be at least 32 characters';
}

export function checkQueueName(value: string): string | undefined {
  // BullMQ builds Redis keys as `bull:<name>:…`; a colon would split them.
  return /^[A-Za-z0-9._-]{1,100}$/.test(value) ? undefined : 'must be 1-100 characters of [A-Za-z0-9._-]';
}

export function checkPolicyFile(value: string): string | undefined {
  return /\.(ya?ml|json)$/i.test(value) ? undefined : 'must name a .yaml, .yml or .json file';
}
