// Formatting and small DOM helpers shared by the dashboard's modules.

export const TIER_NAMES = { 1: 'routine', 2: 'operational', 3: 'serious', 4: 'critical' };

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function fmtDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// 24-hour times: shorter on a card, and unambiguous across a room.
export const fmtClock = (iso) =>
  iso ? new Date(iso).toLocaleTimeString([], { hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';

/** A 0..1 score as a whole percentage, the way the wall shows it. */
export const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 100)) : '–');

/** Long call ids shortened for cards (the full id is in the title and the detail). */
export const shortId = (id) => (id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-5)}` : id);

export const agentName = (info) => info.agentId ?? 'no agent';

export function setTierPill(node, tier) {
  node.dataset.tier = String(tier);
  node.textContent = `T${tier} ${TIER_NAMES[tier] ?? ''}`;
}

/** `h('div', { className: 'x' }, child, 'text')`: an element with properties and children. */
export function h(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
