// The call detail dialog: the call's score timeline (uPlot), its tier
// changes with the policy's reasons, and the prompts sent to the agent with
// the agent's feedback. Built from the call's stored feed history (any
// instance answers) plus the live feed while it is open.
import { fetchHistory } from './api.js';
import { DETAIL_HEIGHT, detailData, detailOptions } from './charts.js';
import { agentName, fmtClock, fmtDuration, h, pct, setTierPill, shortId } from './format.js';
import { callFromHistory, calls, mergeHistory, serverNow } from './state.js';

const $ = (id) => document.getElementById(id);
const dialog = $('detail');

let openId = null;
/** A call the wall no longer lists, rebuilt from its history for this dialog only. */
let detached = null;
let plot = null;

export const openDetailId = () => openId;

const callOf = (callId) => calls.get(callId) ?? (detached?.info.callId === callId ? detached : null);

export async function openDetail(callId) {
  openId = callId;
  detached = null;
  if (!dialog.open) dialog.showModal();
  const known = calls.get(callId);
  if (known) renderDetail(true);
  else renderWaiting(callId);
  if (known?.backfilled) return;
  const history = await fetchHistory(callId);
  if (openId !== callId) return;
  const call = calls.get(callId);
  if (call && history) mergeHistory(call, history.events);
  else if (!call && history) detached = callFromHistory(history);
  if (callOf(callId)) renderDetail(true);
  else renderMissing(callId);
}

function renderWaiting(callId) {
  $('detail-title').textContent = shortId(callId);
  $('detail-meta').textContent = 'loading…';
  $('detail-stats').replaceChildren();
  $('detail-note').hidden = true;
}

function renderMissing(callId) {
  $('detail-title').textContent = shortId(callId);
  $('detail-meta').textContent = callId;
  $('detail-stats').replaceChildren();
  $('detail-tiers').replaceChildren();
  $('detail-prompts').replaceChildren();
  const note = $('detail-note');
  note.hidden = false;
  note.textContent = 'No record of this call: it ended longer ago than the server keeps call histories.';
}

const emptyItem = (text) => h('li', { className: 'tl-empty', textContent: text });

function tierChangeItem(c) {
  const pill = h('span', { className: 'tier-pill' });
  setTierPill(pill, c.to);
  const li = h(
    'li',
    {},
    h('div', { className: 'tl-head' }, h('time', { textContent: fmtDuration(c.audioMs) }), `T${c.from} → `, pill, h('span', { className: 'tl-clock', textContent: fmtClock(c.at) })),
    h('div', { className: 'tl-body', textContent: c.reason ?? '' }),
  );
  li.dataset.tier = String(c.to);
  return li;
}

function promptItem(p) {
  const state = h('span', {
    className: `prompt-state ${p.callEndedAt ? 'after-call' : (p.action ?? 'pending')}`,
    // Decided after the call ended: the agent got it marked stale, for the record.
    textContent: p.callEndedAt ? 'after the call' : p.action === 'used' ? '✓ used' : p.action === 'dismissed' ? 'dismissed' : 'no feedback yet',
  });
  if (p.ackAt) state.title = `at ${fmtClock(p.ackAt)}`;
  const li = h(
    'li',
    {},
    h('div', { className: 'tl-head' }, h('time', { textContent: fmtClock(p.at) }), p.tier ? `T${p.tier} · ${p.scriptId}` : '', state),
    h('div', { className: 'tl-body prompt-text', textContent: p.text ?? '' }),
  );
  if (p.tier) li.dataset.tier = String(p.tier);
  return li;
}

/** Redraws the open dialog from the call's state; `fresh` rebuilds the chart (a newly opened call). */
export function renderDetail(fresh = false) {
  const call = openId ? callOf(openId) : null;
  if (!call) return;
  const { info } = call;
  const ended = call.endedAtLocal !== null;
  setTierPill($('detail-tier'), info.tier);
  dialog.dataset.tier = String(info.tier);
  dialog.dataset.callId = info.callId;
  $('detail-title').textContent = agentName(info);
  $('detail-meta').textContent = `${info.callId}${info.startedAt ? ` · started ${fmtClock(info.startedAt)}` : ''}${ended ? ' · ended' : ''}`;

  const prompts = [...call.prompts.values()].sort((a, b) => String(a.at).localeCompare(String(b.at)));
  const peak = call.summary?.peakAgitation ?? Math.max(info.agitation ?? 0, ...call.series.agitation.filter((v) => v != null));
  const stats = [
    ['agitation', pct(info.agitation)],
    ['peak', pct(peak)],
    ended ? ['state', 'ended'] : ['in tier', fmtDuration(serverNow() - Date.parse(info.tierSince))],
    ['call', fmtDuration(call.summary?.audioMs ?? info.audioMs ?? 0)],
    ['prompts', String(prompts.length)],
  ];
  $('detail-stats').replaceChildren(...stats.map(([label, value]) => h('div', { className: 'stat' }, h('b', { textContent: value }), h('span', { textContent: label }))));

  const chart = $('detail-chart');
  if (fresh || !plot) {
    plot?.destroy();
    chart.replaceChildren();
    plot = new uPlot(detailOptions(Math.max(300, chart.clientWidth || 800)), detailData(call), chart);
  } else {
    plot.setData(detailData(call));
  }
  $('detail-note').hidden = true;
  $('detail-tiers').replaceChildren(...(call.tierChanges.length === 0 ? [emptyItem('No tier change yet.')] : call.tierChanges.map(tierChangeItem)));
  $('detail-prompts').replaceChildren(...(prompts.length === 0 ? [emptyItem('No prompt sent yet.')] : prompts.map(promptItem)));
}

export function closeDetail() {
  openId = null;
  detached = null;
  plot?.destroy();
  plot = null;
  if (dialog.open) dialog.close();
}

$('detail-close').addEventListener('click', closeDetail);
// Esc closes the dialog natively; keep the state in step.
dialog.addEventListener('close', () => {
  if (openId !== null) closeDetail();
});
// A click on the backdrop (outside the dialog's box) closes it.
dialog.addEventListener('click', (e) => {
  if (e.target !== dialog) return;
  const r = dialog.getBoundingClientRect();
  if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) closeDetail();
});
new ResizeObserver(() => {
  const chart = $('detail-chart');
  if (plot && chart.clientWidth > 0) plot.setSize({ width: chart.clientWidth, height: DETAIL_HEIGHT });
}).observe($('detail-chart'));
