// What the dashboard knows: live calls (with their recent score history, tier
// changes and prompts) and alerts, kept up to date by the supervisor feed
// (docs/supervisor-feed.md) and by a call's stored feed history
// (GET /v1/supervisor/calls/:callId). No DOM here.

/** Score points kept per call (≈1 per second of audio): an hour. */
const MAX_POINTS = 3600;

/** callId → call view model (see newCall). */
export const calls = new Map();
/** alertId → Alert (feed shape). */
export const alerts = new Map();
/** alertIds this page sent an ack for and has not yet seen confirmed. */
export const acking = new Set();

let clockSkewMs = 0;
/** The server's wall clock (time in tier is counted on it, not on this screen's clock). */
export const serverNow = () => Date.now() + clockSkewMs;

export function newCall(info) {
  return {
    info,
    /** uPlot columns: t = seconds of call audio; smoothed agitation, anger, arousal, tier. */
    series: { t: [], agitation: [], anger: [], arousal: [], tier: [] },
    /** {from, to, audioMs, reason, at}, oldest first. */
    tierChanges: [],
    /** promptId → {promptId, tier, text, scriptId, at, action, ackAt, callEndedAt (decided after the call ended, or null)} */
    prompts: new Map(),
    /** The call.ended summary, or null while live. */
    summary: null,
    /** Date.now() when this page saw the call end, or null. */
    endedAtLocal: null,
    /** True once the call's stored history was merged in (or asked for). */
    backfilled: false,
    card: null,
    plot: null,
  };
}

function upsertCall(info) {
  const existing = calls.get(info.callId);
  if (existing) {
    existing.info = { ...existing.info, ...info };
    return existing;
  }
  const call = newCall(info);
  calls.set(info.callId, call);
  return call;
}

const point = (m) => ({ t: m.audioMs / 1000, agitation: m.agitation, anger: m.anger ?? null, arousal: m.arousal ?? null, tier: m.tier });

function appendPoint(call, p) {
  const s = call.series;
  // Per call the feed is ordered; an older point (a history merged late) goes through mergePoints.
  if (s.t.length > 0 && p.t <= s.t[s.t.length - 1]) return mergePoints(call, [p]);
  for (const key of Object.keys(s)) s[key].push(p[key]);
  if (s.t.length > MAX_POINTS) for (const key of Object.keys(s)) s[key].splice(0, s.t.length - MAX_POINTS);
}

/** Merges points into a call's series by time (later data for the same time wins). */
function mergePoints(call, points) {
  const s = call.series;
  const byT = new Map();
  for (const p of points) byT.set(p.t, p);
  for (let i = 0; i < s.t.length; i++) byT.set(s.t[i], { t: s.t[i], agitation: s.agitation[i], anger: s.anger[i], arousal: s.arousal[i], tier: s.tier[i] });
  const merged = [...byT.values()].sort((a, b) => a.t - b.t).slice(-MAX_POINTS);
  for (const key of Object.keys(s)) s[key] = merged.map((p) => p[key]);
}

function addTierChange(call, m) {
  if (call.tierChanges.some((c) => c.audioMs === m.audioMs && c.to === m.to)) return;
  call.tierChanges.push({ from: m.from, to: m.to, audioMs: m.audioMs, reason: m.reason, at: m.at });
  call.tierChanges.sort((a, b) => a.audioMs - b.audioMs);
}

function addPrompt(call, m) {
  const old = call.prompts.get(m.promptId);
  call.prompts.set(m.promptId, { action: null, ackAt: null, ...old, promptId: m.promptId, tier: m.tier, text: m.text, scriptId: m.scriptId, at: m.at, callEndedAt: m.callEndedAt ?? null });
}

function ackPrompt(call, m) {
  const p = call.prompts.get(m.promptId) ?? { promptId: m.promptId, tier: null, text: '', scriptId: '', at: null };
  call.prompts.set(m.promptId, { ...p, action: m.action, ackAt: m.at });
}

function endCall(call, m) {
  call.summary = m.summary ?? {};
  call.endedAtLocal ??= Date.now();
}

/**
 * Applies one live feed message. Returns what changed: `{ callId }` for a
 * call, `{ all: true }` for a snapshot, `{ removed: [ids] }` for calls the
 * snapshot no longer lists; undefined for nothing.
 */
export function applyFeedMessage(m) {
  const call = m.callId ? calls.get(m.callId) : undefined;
  switch (m.type) {
    case 'snapshot': {
      const at = Date.parse(m.at);
      if (Number.isFinite(at)) clockSkewMs = at - Date.now();
      const live = new Set();
      for (const info of m.calls ?? []) {
        live.add(info.callId);
        const c = upsertCall(info);
        c.summary = null;
        c.endedAtLocal = null;
      }
      // Calls that ended while this page was disconnected.
      const removed = [...calls.keys()].filter((id) => !live.has(id) && calls.get(id).endedAtLocal === null);
      alerts.clear();
      for (const a of m.alerts ?? []) alerts.set(a.alertId, a);
      return { all: true, removed };
    }
    case 'call.started': {
      const c = upsertCall(m.call);
      c.summary = null;
      c.endedAtLocal = null;
      return { callId: m.call.callId };
    }
    case 'alert':
      alerts.set(m.alert.alertId, m.alert);
      return { callId: m.alert.callId };
    case 'alert.acked': {
      acking.delete(m.alertId);
      const a = alerts.get(m.alertId);
      if (a) alerts.set(m.alertId, { ...a, ackedBy: m.by, ackedAt: m.ackedAt });
      return { callId: m.callId };
    }
    default:
      break;
  }
  if (!call) return undefined;
  switch (m.type) {
    case 'call.scores':
      appendPoint(call, point(m));
      Object.assign(call.info, { agitation: m.agitation, audioMs: m.audioMs, anger: m.anger, arousal: m.arousal });
      if (m.tier && m.tier !== call.info.tier) Object.assign(call.info, { tier: m.tier, tierSince: m.at });
      break;
    case 'tier.changed':
      Object.assign(call.info, { tier: m.to, tierSince: m.at });
      addTierChange(call, m);
      break;
    case 'call.agent':
      call.info.agentId = m.agentId;
      break;
    case 'prompt':
      addPrompt(call, m);
      break;
    case 'prompt.ack':
      ackPrompt(call, m);
      break;
    case 'call.ended':
      endCall(call, m);
      break;
    default:
      return undefined; // newer message types are ignored, not errors
  }
  return { callId: m.callId };
}

/**
 * Merges a call's stored feed history (GET /v1/supervisor/calls/:callId) into
 * `call`: scores, tier changes, prompts with their acks, the end. The live
 * state (tier, agent, agitation) stays as the feed last said. Alerts come
 * from the snapshot only (it holds every alert still relevant).
 */
export function mergeHistory(call, events) {
  const points = [];
  for (const m of events) {
    if (m.type === 'call.scores') points.push(point(m));
    else if (m.type === 'tier.changed') addTierChange(call, m);
    else if (m.type === 'prompt') addPrompt(call, m);
    else if (m.type === 'prompt.ack') ackPrompt(call, m);
    else if (m.type === 'call.ended' && !call.summary) endCall(call, m);
  }
  if (points.length > 0) mergePoints(call, points);
  call.backfilled = true;
}

/** A call the page no longer (or never) listed, rebuilt from its stored history. */
export function callFromHistory(history) {
  const started = history.events.find((m) => m.type === 'call.started');
  const info = history.live ?? started?.call;
  if (!info) return null;
  const call = newCall({ ...info });
  mergeHistory(call, history.events);
  const last = call.tierChanges[call.tierChanges.length - 1];
  if (last && !history.live) Object.assign(call.info, { tier: last.to, tierSince: last.at });
  const lastScores = call.series.agitation.length;
  if (lastScores > 0 && !history.live) call.info.agitation = call.series.agitation[lastScores - 1];
  return call;
}
