// The alert feed: tier 3 and 4 alerts, open ones first, each with an
// Acknowledge button; acknowledged ones say who and when (as every screen
// sees it, from the feed's alert.acked).
import { fmtClock, fmtDuration, setTierPill, shortId } from './format.js';
import { acking, alerts, calls } from './state.js';

const $ = (id) => document.getElementById(id);
const alertNodes = new Map();

/**
 * @param {{ online: boolean, onAck: (alertId: string) => void, onOpen: (callId: string) => void }} ctx
 */
export function renderAlerts({ online, onAck, onOpen }) {
  const box = $('alerts');
  const list = [...alerts.values()].sort((a, b) => {
    const ackedA = a.ackedBy ? 1 : 0;
    const ackedB = b.ackedBy ? 1 : 0;
    return ackedA - ackedB || b.tier - a.tier || Date.parse(b.raisedAt) - Date.parse(a.raisedAt);
  });
  for (const [id, node] of alertNodes) {
    if (!alerts.has(id)) {
      node.remove();
      alertNodes.delete(id);
    }
  }
  for (const a of list) {
    let node = alertNodes.get(a.alertId);
    if (!node) {
      node = $('alert-item').content.firstElementChild.cloneNode(true);
      node.dataset.alertId = a.alertId;
      node.dataset.callId = a.callId;
      node.querySelector('.ack').addEventListener('click', () => onAck(a.alertId));
      node.querySelector('.alert-call').addEventListener('click', () => onOpen(a.callId));
      alertNodes.set(a.alertId, node);
    }
    node.dataset.tier = String(a.tier);
    node.classList.toggle('is-acked', Boolean(a.ackedBy));
    setTierPill(node.querySelector('.tier-pill'), a.tier);
    const agent = a.agentId ?? calls.get(a.callId)?.info.agentId ?? null;
    const callButton = node.querySelector('.alert-call');
    callButton.textContent = agent ?? 'no agent';
    callButton.title = `Open call ${a.callId}`;
    const time = node.querySelector('.alert-time');
    time.dateTime = a.raisedAt;
    time.textContent = fmtClock(a.raisedAt);
    node.querySelector('.alert-reason').textContent = a.reason;
    node.querySelector('.alert-meta').textContent =
      `${shortId(a.callId)}${a.audioMs != null ? ` · at ${fmtDuration(a.audioMs)} of the call` : ''}` +
      // Decided after the caller hung up (the instance was behind): no live call to join.
      (a.callEndedAt ? ` · decided after the call ended at ${fmtClock(a.callEndedAt)}` : '');
    node.classList.toggle('after-call', Boolean(a.callEndedAt));
    const button = node.querySelector('.ack');
    const acked = node.querySelector('.acked');
    if (a.ackedBy) {
      node.dataset.ackedBy = a.ackedBy;
      button.hidden = true;
      acked.textContent = `✓ Acknowledged by ${a.ackedBy}${a.ackedAt ? ` at ${fmtClock(a.ackedAt)}` : ''}`;
    } else {
      delete node.dataset.ackedBy;
      button.hidden = false;
      button.disabled = acking.has(a.alertId) || !online;
      button.textContent = acking.has(a.alertId) ? 'Acknowledging…' : 'Acknowledge';
      acked.textContent = '';
    }
  }
  if (list.some((a, i) => box.children[i] !== alertNodes.get(a.alertId))) {
    for (const a of list) box.append(alertNodes.get(a.alertId));
  }
  const open = list.filter((a) => !a.ackedBy).length;
  $('alerts-open').textContent = String(open);
  $('alerts-open').classList.toggle('zero', open === 0);
  $('alerts-empty').hidden = list.length > 0;
}
