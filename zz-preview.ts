// scratch visual preview (not committed): fake feed injected into the page
import { chromium } from 'playwright-core';
import { startTestService } from './test/integration/helpers.js';
const svc = await startTestService();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
const width = Number(process.env.W ?? 1920), height = Number(process.env.H ?? 1080);
const page = await browser.newPage({ viewport: { width, height } });
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.stack)); page.on('response', (r) => { if (r.status() >= 400) console.log('HTTP', r.status(), r.url()); });
await page.addInitScript({ content: `(() => {
  class FakeWS extends EventTarget {
    constructor(url) { super(); this.url = url; this.readyState = 0; window.__ws = this; window.__wsUrl = url;
      setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event('open')); window.__feed(this); }, 50); }
    send(d) { this.sent.push(d); const m = JSON.parse(d); setTimeout(() => this.emit({ type: 'alert.acked', at: new Date().toISOString(), alertId: m.alertId, callId: 'x', by: 'sup-maria', ackedAt: new Date().toISOString() }), 100); }
    emit(m) { this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(m) })); }
    close() {}
  }
  FakeWS.OPEN = 1; window.WebSocket = FakeWS;
  window.__feed = (ws) => {
    const now = Date.now();
    const iso = (ms) => new Date(ms).toISOString();
    const defs = [
      ['CA7f3a9e01b2c4d5e6f708192a3b4c5d6e', 'maria.k', 4, 0.93, 400, 'billing'],
      ['CA11aa22bb33cc44dd55ee66ff77889900', 'tom.b', 3, 0.84, 260, 'retention'],
      ['CA2233445566778899aabbccddeeff0011', null, 2, 0.71, 180, 'billing'],
      ['CA99887766554433221100ffeeddccbbaa', 'li.wei', 1, 0.31, 520, 'support'],
      ['CA5566778899aabbccddeeff0011223344', 'sam.o', 1, 0.22, 90, 'support'],
      ['CAabcdef0123456789abcdef0123456789', 'ana.r', 2, 0.66, 330, 'retention'],
      ['CAfedcba9876543210fedcba9876543210', 'joe.p', 1, 0.41, 610, 'support'],
    ];
    const calls = defs.map(([callId, agentId, tier, ag, lenS, team]) => ({ callId, streamId: 'MZ' + callId.slice(2), agentId, source: 'twilio', language: 'en-US', team, queue: null, tier, tierSince: iso(now - lenS * 300), agitation: ag, audioMs: lenS * 1000, startedAt: iso(now - lenS * 1000), instanceId: 'i1' }));
    ws.emit({ type: 'snapshot', at: iso(now), calls, alerts: [
      { alertId: 'a1', callId: defs[0][0], agentId: 'maria.k', tier: 4, reason: 'agitation 0.95 ≥ 0.95 for 1.5 s', audioMs: 280000, raisedAt: iso(now - 120000), ackedBy: null, ackedAt: null },
      { alertId: 'a2', callId: defs[1][0], agentId: 'tom.b', tier: 3, reason: 'agitation 0.82 ≥ 0.80 for 1.5 s', audioMs: 180000, raisedAt: iso(now - 60000), ackedBy: null, ackedAt: null },
      { alertId: 'a0', callId: defs[0][0], agentId: 'maria.k', tier: 3, reason: 'agitation 0.81 ≥ 0.80 for 1.5 s', audioMs: 200000, raisedAt: iso(now - 200000), ackedBy: 'sup-jo', ackedAt: iso(now - 190000) },
    ] });
    defs.forEach(([callId, , tier, ag, lenS], k) => {
      for (let s = Math.max(0, lenS - 320); s <= lenS; s++) {
        const base = ag * Math.min(1, 0.55 + (s / lenS) * 0.5) + 0.08 * Math.sin(s / (7 + k)) + 0.03 * Math.sin(s * 1.7 + k);
        ws.emit({ type: 'call.scores', at: iso(now), callId, audioMs: s * 1000, agitation: Math.max(0, Math.min(1, base)), anger: Math.max(0, Math.min(1, base * 0.8 + 0.05 * Math.cos(s / 3))), arousal: Math.max(0, Math.min(1, 0.5 + 0.2 * Math.sin(s / 11))), emotion: {}, tier });
      }
    });
    ws.emit({ type: 'tier.changed', at: iso(now), callId: defs[0][0], from: 2, to: 3, audioMs: 200000, reason: 'agitation 0.81 ≥ 0.80 for 1.5 s' });
    ws.emit({ type: 'tier.changed', at: iso(now), callId: defs[0][0], from: 3, to: 4, audioMs: 280000, reason: 'agitation 0.95 ≥ 0.95 for 1.5 s' });
    ws.emit({ type: 'prompt', at: iso(now - 100000), callId: defs[0][0], promptId: 'p1', tier: 3, text: 'Acknowledge the frustration: "I can hear this has been really difficult. Let me sort it out now."', scriptId: 'en.t3.anger.1' });
    ws.emit({ type: 'prompt.ack', at: iso(now), callId: defs[0][0], promptId: 'p1', action: 'used' });
    ws.emit({ type: 'prompt', at: iso(now - 10000), callId: defs[0][0], promptId: 'p2', tier: 4, text: 'Offer the handover: "I am bringing in a specialist who can resolve this right away."', scriptId: 'en.t4.anger.1' });
  };})();` });

await page.goto(`${svc.url}/dashboard?supervisorId=sup-maria`);
await page.waitForTimeout(1500);
await page.screenshot({ path: '/tmp/h9d/preview.png' });
if (process.env.DETAIL) { await page.click('.call >> nth=0'); await page.waitForTimeout(800); await page.screenshot({ path: '/tmp/h9d/preview-detail.png' }); }
if (process.env.ACK) { await page.keyboard.press('Escape'); await page.click('.ack >> nth=0'); await page.waitForTimeout(500); await page.screenshot({ path: '/tmp/h9d/preview-ack.png' }); }
await browser.close(); await svc.close();
