// Every server URL the dashboard uses, built in one place. Relative to the
// page, so Undertone may sit behind a proxy under a path prefix.

const pageParams = new URLSearchParams(location.search);

/** Page query parameters passed on to the server (filters, supervisor id, later the token). */
const PASSED_ON = ['team', 'queue', 'supervisorId', 'access_token'];

function withPassedOn(url) {
  for (const key of PASSED_ON) {
    const value = pageParams.get(key);
    if (value) url.searchParams.set(key, value);
  }
  return url.toString();
}

/**
 * The supervisor feed's WebSocket URL. Authentication (a later issue) adds
 * an `access_token` query parameter: here, and nowhere else.
 */
export function feedUrl() {
  const url = new URL('v1/supervisor/stream', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  return withPassedOn(url);
}

/** A call's stored feed history (any instance answers). */
export function historyUrl(callId) {
  const url = new URL(`v1/supervisor/calls/${encodeURIComponent(callId)}`, location.href);
  url.search = '';
  const token = pageParams.get('access_token');
  if (token) url.searchParams.set('access_token', token);
  return url.toString();
}

/**
 * GET a call's history: `{ callId, live, events }`, or null when the server
 * has none (ended longer ago than it keeps) or cannot be reached.
 */
export async function fetchHistory(callId) {
  try {
    const res = await fetch(historyUrl(callId));
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** The page's own team/queue filter and supervisor id, shown in the top bar. */
export const scopeText = () =>
  [
    ...['team', 'queue'].map((k) => (pageParams.get(k) ? `${k} ${pageParams.get(k)}` : '')),
    pageParams.get('supervisorId') ? `acks as ${pageParams.get('supervisorId')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
