// The wall of live call cards: one card per call, each with its live uPlot
// chart, ordered by tier then agitation, and the per-tier counts on top.
import { SPARK_HEIGHT, sparkData, sparkOptions } from './charts.js';
import { agentName, fmtDuration, pct, setTierPill, shortId, TIER_NAMES } from './format.js';
import { calls, serverNow } from './state.js';

/** Least time between two reorders of cards of the same tier by agitation, ms. */
const REORDER_CALM_MS = 5000;

const $ = (id) => document.getElementById(id);

function ensureCard(call, onOpen) {
  if (call.card) return call.card;
  const card = $('call-card').content.firstElementChild.cloneNode(true);
  card.dataset.callId = call.info.callId;
  card.addEventListener('click', () => onOpen(call.info.callId));
  card.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onOpen(call.info.callId);
    }
  });
  $('calls').append(card);
  call.card = card;
  const spark = card.querySelector('.call-spark');
  call.plot = new uPlot(sparkOptions(call, spark.clientWidth || 300), sparkData(call), spark);
  new ResizeObserver(() => {
    if (call.plot && spark.clientWidth > 0) call.plot.setSize({ width: spark.clientWidth, height: SPARK_HEIGHT });
  }).observe(spark);
  return card;
}

/** Creates or updates a call's card (text, tier colour, chart). */
export function renderCard(call, onOpen) {
  const card = ensureCard(call, onOpen);
  const { info } = call;
  card.dataset.tier = String(info.tier);
  card.classList.toggle('ended', call.endedAtLocal !== null);
  setTierPill(card.querySelector('.tier-pill'), info.tier);
  const agent = card.querySelector('.call-agent');
  agent.textContent = agentName(info);
  agent.classList.toggle('none', !info.agentId);
  card.querySelector('.call-agitation b').textContent = pct(info.agitation);
  const where = [info.team, info.queue, info.language].filter(Boolean).join(' · ');
  const id = card.querySelector('.call-id');
  id.textContent = `${shortId(info.callId)}${where ? ` · ${where}` : ''}`;
  id.title = info.callId;
  card.setAttribute('aria-label', `Call ${info.callId}, tier ${info.tier} ${TIER_NAMES[info.tier]}, agent ${agentName(info)}`);
  call.plot.setData(sparkData(call));
  card.dataset.points = String(call.series.t.length); // how much history the chart holds (tests read it)
  renderTimes(call);
}

/** End reasons a card names, as [label, note]; others read "Ended". */
const ENDINGS = {
  'instance-lost': ['Lost', ' instance died'],
  overload: ['Shed', ' instance overloaded: no longer monitored'],
};

/** The ticking parts of a card: time in tier and call length (or how the call ended). */
export function renderTimes(call) {
  const card = call.card;
  if (!card) return;
  const inTier = card.querySelector('.call-in-tier');
  const length = card.querySelector('.call-length');
  if (call.endedAtLocal !== null) {
    // Say when a call did not simply hang up: its instance died (ended by a
    // surviving one), or an overloaded instance stopped monitoring it (shed).
    const why = ENDINGS[call.summary?.endReason] ?? ['Ended', ''];
    inTier.replaceChildren(Object.assign(document.createElement('b'), { textContent: why[0] }), why[1]);
    const peak = call.summary?.peakAgitation;
    length.textContent = `${fmtDuration(call.summary?.audioMs ?? call.info.audioMs)} call${peak != null ? ` · peak ${pct(peak)}` : ''}`;
    return;
  }
  inTier.replaceChildren(Object.assign(document.createElement('b'), { textContent: fmtDuration(serverNow() - Date.parse(call.info.tierSince)) }), ' in tier');
  length.textContent = `${fmtDuration(call.info.audioMs)} call`;
}

/** Tier (highest first), then agitation (highest first); ended calls last. */
export function compareCalls(a, b) {
  const endedA = a.endedAtLocal !== null;
  const endedB = b.endedAtLocal !== null;
  if (endedA !== endedB) return endedA ? 1 : -1;
  return b.info.tier - a.info.tier || (b.info.agitation ?? 0) - (a.info.agitation ?? 0) || a.info.callId.localeCompare(b.info.callId);
}

/** When cards were last reordered for agitation alone (Date.now() ms). */
let lastShuffleMs = 0;

/**
 * Puts the cards in {@link compareCalls} order. A tier change (or a new or
 * ended call) reorders at once; agitation alone at most every
 * REORDER_CALM_MS, so cards of one tier do not swap places every second
 * while a supervisor is reading them.
 */
export function orderCards() {
  const box = $('calls');
  const sorted = [...calls.values()].filter((c) => c.card).sort(compareCalls);
  const current = [...box.children];
  if (sorted.length === current.length && sorted.every((c, i) => current[i] === c.card)) return;
  const rank = (node) => {
    const c = calls.get(node.dataset.callId);
    return c ? (c.endedAtLocal !== null ? 20 : 10 - c.info.tier) : 99;
  };
  const tiersInOrder = sorted.length === current.length && current.every((node, i) => i === 0 || rank(current[i - 1]) <= rank(node));
  const now = Date.now();
  if (tiersInOrder && now - lastShuffleMs < REORDER_CALM_MS) return;
  lastShuffleMs = now;
  for (const c of sorted) box.append(c.card); // moving keeps each chart's canvas
}

/** Live calls per tier in the top bar, and the live-call count. */
export function renderCounts() {
  const counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
  let live = 0;
  for (const c of calls.values()) {
    if (c.endedAtLocal !== null) continue;
    live += 1;
    counts[c.info.tier] = (counts[c.info.tier] ?? 0) + 1;
  }
  for (const node of $('tier-counts').children) {
    const n = counts[node.dataset.tier] ?? 0;
    node.querySelector('b').textContent = String(n);
    node.classList.toggle('zero', n === 0);
  }
  $('calls-count').textContent = String(live);
  $('calls-empty').hidden = calls.size > 0;
}

/** Removes a call and its card. */
export function dropCall(callId) {
  const call = calls.get(callId);
  if (!call) return;
  call.plot?.destroy();
  call.card?.remove();
  calls.delete(callId);
}
