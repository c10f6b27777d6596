// Undertone supervisor dashboard: the live feed (/v1/supervisor/stream,
// docs/supervisor-feed.md) rendered as call cards, an alert feed and a call
// detail view. Plain browser JavaScript modules, run as written (no build
// step); charts are uPlot (served by Undertone from node_modules).
import { renderAlerts } from './alerts.js';
import { feedUrl, fetchHistory, scopeText } from './api.js';
import { compareCalls, dropCall, orderCards, renderCard, renderCounts, renderTimes } from './cards.js';
import { openDetail, openDetailId, renderDetail } from './detail.js';
import { acking, applyFeedMessage, calls, mergeHistory } from './state.js';

/** How long an ended call stays on the wall (dimmed) before it is removed, ms. */
const ENDED_LINGER_MS = 60_000;
/** Reconnect delays after the socket drops, ms (the last repeats). */
const RECONNECT_MS = [500, 1000, 2000, 4000, 8000, 10_000];
/** Calls whose chart history is fetched after a (re)connect, highest first: the ones on screen. */
const BACKFILL_MAX_CALLS = 48;
/** History requests in flight at once while backfilling. */
const BACKFILL_CONCURRENCY = 3;

const $ = (id) => document.getElementById(id);
let socket = null;
let reconnectAttempt = 0;

// -------------------------------------------------------------- connection
function connect() {
  setConn('connecting', reconnectAttempt === 0 ? 'Connecting…' : 'Reconnecting…');
  const ws = new WebSocket(feedUrl());
  socket = ws;
  ws.addEventListener('open', () => setConn('live', 'Live'));
  ws.addEventListener('message', onMessage);
  ws.addEventListener('close', (event) => {
    if (socket !== ws) return;
    socket = null;
    const delayMs = RECONNECT_MS[Math.min(reconnectAttempt, RECONNECT_MS.length - 1)];
    reconnectAttempt += 1;
    const why = event.reason ? ` (${event.reason})` : '';
    setConn('down', `Disconnected${why} · retrying in ${Math.max(1, Math.round(delayMs / 1000))} s`);
    setTimeout(connect, delayMs * (0.8 + Math.random() * 0.4));
    renderAlertFeed();
  });
}

function setConn(state, text) {
  const conn = $('conn');
  conn.dataset.state = state;
  conn.textContent = text;
  // While the feed is down the numbers on screen are stale: say so by dimming them.
  document.body.classList.toggle('offline', state === 'down');
}

const online = () => socket !== null && socket.readyState === WebSocket.OPEN;

function sendAck(alertId) {
  if (!online()) {
    toast('Not connected: the acknowledgement was not sent.');
    return;
  }
  socket.send(JSON.stringify({ type: 'ack', alertId }));
  acking.add(alertId);
  renderAlertFeed();
}

function onMessage(event) {
  let m;
  try {
    m = JSON.parse(event.data);
  } catch {
    return;
  }
  if (m?.type === 'error') {
    toast(m.message ?? 'The server refused a message.');
    return;
  }
  const changed = m && typeof m.type === 'string' ? applyFeedMessage(m) : undefined;
  if (!changed) return;
  if (changed.all) {
    reconnectAttempt = 0;
    for (const id of changed.removed) dropCall(id);
    for (const id of calls.keys()) dirty.add(id);
    backfill();
  } else if (changed.callId) {
    dirty.add(changed.callId);
  }
  scheduleRender();
}

/**
 * Fills the charts of calls that were already live when this page connected
 * from their stored feed history, a few requests at a time.
 */
async function backfill() {
  const todo = [...calls.values()].filter((c) => !c.backfilled).sort(compareCalls).slice(0, BACKFILL_MAX_CALLS);
  for (const c of todo) c.backfilled = true; // asked for; not asked again on the next snapshot
  const worker = async () => {
    for (let c = todo.shift(); c; c = todo.shift()) {
      const history = await fetchHistory(c.info.callId);
      if (history && calls.get(c.info.callId) === c) {
        mergeHistory(c, history.events);
        dirty.add(c.info.callId);
        scheduleRender();
      }
    }
  };
  await Promise.all(Array.from({ length: BACKFILL_CONCURRENCY }, worker));
}

// ------------------------------------------------------------------ render
const dirty = new Set();
let renderQueued = false;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    for (const id of dirty) {
      const call = calls.get(id);
      if (call) renderCard(call, openDetail);
    }
    dirty.clear();
    orderCards();
    renderCounts();
    renderAlertFeed();
    if (openDetailId()) renderDetail();
  });
}

const renderAlertFeed = () => renderAlerts({ online: online(), onAck: sendAck, onOpen: openDetail });

// -------------------------------------------------------------------- misc
let toastTimer = null;
function toast(text) {
  let node = document.querySelector('.toast');
  if (!node) {
    node = Object.assign(document.createElement('div'), { className: 'toast', role: 'alert' });
    document.body.append(node);
  }
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), 5000);
}

/** Once a second: clocks, times in tier, ended calls leaving the wall. */
function tick() {
  $('clock').textContent = new Date().toLocaleTimeString([], { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
  const now = Date.now();
  for (const [id, call] of calls) {
    if (call.endedAtLocal !== null && now - call.endedAtLocal > ENDED_LINGER_MS && openDetailId() !== id) dropCall(id);
    else renderTimes(call);
  }
  orderCards();
  renderCounts();
  if (openDetailId()) renderDetail();
}

const scope = scopeText();
$('scope').textContent = scope;
$('scope').hidden = scope === '';
tick();
setInterval(tick, 1000);
renderCounts();
renderAlertFeed();
connect();
