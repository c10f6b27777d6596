// Undertone supervisor dashboard: the live feed (/v1/supervisor/stream,
// docs/supervisor-feed.md) rendered as call cards, an alert feed and a call
// detail view. Plain browser JavaScript, run as written (no build step);
// charts are uPlot (served by Undertone from node_modules).
'use strict';

(() => {
  const TIER_NAMES = { 1: 'routine', 2: 'operational', 3: 'serious', 4: 'critical' };
  /** Width of a card's live chart, seconds of call audio. */
  const SPARK_WINDOW_S = 300;
  /** Score points kept per call (≈1/s from the feed): the detail chart's fallback history. */
  const MAX_POINTS = 3600;
  /** How long an ended call stays on the wall (dimmed) before it is removed, ms. */
  const ENDED_LINGER_MS = 60_000;
  /** Least time between two reorders of cards of the same tier by agitation, ms. */
  const REORDER_CALM_MS = 5000;
    /** Reconnect delays after the socket drops, ms (the last repeats). */
  const RECONNECT_MS = [500, 1000, 2000, 4000, 8000, 10_000];

  const $ = (id) => document.getElementById(id);
  const el = {
    calls: $('calls'),
    callsEmpty: $('calls-empty'),
    callsCount: $('calls-count'),
    alerts: $('alerts'),
    alertsEmpty: $('alerts-empty'),
    alertsOpen: $('alerts-open'),
    conn: $('conn'),
    clock: $('clock'),
    scope: $('scope'),
    tierCounts: $('tier-counts'),
    detail: $('detail'),
    callTpl: $('call-card'),
    alertTpl: $('alert-item'),
  };

  // ---------------------------------------------------------------- feed URL
  const pageParams = new URLSearchParams(location.search);

  /**
   * The one place the feed's URL is built. Filters and the supervisor id come
   * from the page's own query; an `access_token` (authentication, later) will
   * be added here and nowhere else.
   */
  function feedUrl() {
    const url = new URL('v1/supervisor/stream', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = '';
    for (const key of ['team', 'queue', 'supervisorId', 'access_token']) {
      const value = pageParams.get(key);
      if (value) url.searchParams.set(key, value);
    }
    return url.toString();
  }
  const apiUrl = (path) => new URL(path, location.href).toString();

  // ------------------------------------------------------------------- state
  /** callId → call view model. */
  const calls = new Map();
  /** alertId → Alert (feed shape). */
  const alerts = new Map();
  /** alertIds this page sent an ack for and has not seen confirmed. */
  const acking = new Set();
  /** Server wall clock minus ours, ms: times in tier use the server's clock. */
  let clockSkewMs = 0;
  let socket = null;
  let reconnectAttempt = 0;
  let openDetailId = null;

  const serverNow = () => Date.now() + clockSkewMs;

  function newCall(info) {
    return {
      info,
      /** uPlot columns: x = audio seconds. */
      series: { t: [], agitation: [], anger: [], arousal: [], tier: [] },
      tierChanges: [],
      /** promptId → {promptId, tier, text, scriptId, audioMs, at, action} */
      prompts: new Map(),
      summary: null,
      endedAtLocal: null,
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

  function pushScores(call, m) {
    const s = call.series;
    const t = m.audioMs / 1000;
    // The feed is ordered per call; a repeated or older point (after a
    // reconnect) would break uPlot's sorted x.
    if (s.t.length > 0 && t <= s.t[s.t.length - 1]) return;
    s.t.push(t);
    s.agitation.push(m.agitation);
    s.anger.push(m.anger ?? null);
    s.arousal.push(m.arousal ?? null);
    s.tier.push(m.tier ?? call.info.tier);
    if (s.t.length > MAX_POINTS) for (const key of Object.keys(s)) s[key].splice(0, s.t.length - MAX_POINTS);
  }

  // ---------------------------------------------------------------- messages
  const handlers = {
    snapshot(m) {
      reconnectAttempt = 0;
      const live = new Set();
      for (const info of m.calls ?? []) {
        live.add(info.callId);
        dirtyCalls.add(info.callId);
        const call = upsertCall(info);
        call.summary = null;
        call.endedAtLocal = null;
      }
      // Calls that ended while we were disconnected.
      for (const [id, call] of calls) if (!live.has(id) && call.endedAtLocal === null) dropCall(id);
      alerts.clear();
      for (const a of m.alerts ?? []) alerts.set(a.alertId, a);
    },
    'call.started'(m) {
      const call = upsertCall(m.call);
      call.summary = null;
      call.endedAtLocal = null;
    },
    'call.scores'(m) {
      const call = calls.get(m.callId);
      if (!call) return;
      pushScores(call, m);
      call.info.agitation = m.agitation;
      call.info.audioMs = m.audioMs;
      call.info.anger = m.anger;
      call.info.arousal = m.arousal;
      if (m.tier && m.tier !== call.info.tier) {
        call.info.tier = m.tier;
        call.info.tierSince = m.at;
      }
    },
    'tier.changed'(m) {
      const call = calls.get(m.callId);
      if (!call) return;
      call.info.tier = m.to;
      call.info.tierSince = m.at;
      call.tierChanges.push({ from: m.from, to: m.to, audioMs: m.audioMs, reason: m.reason, at: m.at });
    },
    alert(m) {
      alerts.set(m.alert.alertId, m.alert);
    },
    'alert.acked'(m) {
      acking.delete(m.alertId);
      const a = alerts.get(m.alertId);
      if (a) alerts.set(m.alertId, { ...a, ackedBy: m.by, ackedAt: m.ackedAt });
    },
    'call.agent'(m) {
      const call = calls.get(m.callId);
      if (call) call.info.agentId = m.agentId;
    },
    prompt(m) {
      const call = calls.get(m.callId);
      if (!call) return;
      const old = call.prompts.get(m.promptId);
      call.prompts.set(m.promptId, { action: null, ...old, promptId: m.promptId, tier: m.tier, text: m.text, scriptId: m.scriptId, audioMs: m.audioMs ?? old?.audioMs ?? null, at: m.at });
    },
    'prompt.ack'(m) {
      const call = calls.get(m.callId);
      if (!call) return;
      const p = call.prompts.get(m.promptId) ?? { promptId: m.promptId };
      call.prompts.set(m.promptId, { ...p, action: m.action, ackAt: m.at });
    },
    'call.ended'(m) {
      const call = calls.get(m.callId);
      if (!call) return;
      call.summary = m.summary ?? {};
      call.endedAtLocal = Date.now();
    },
    error(m) {
      toast(m.message ?? 'The server refused a message.');
    },
  };

  function onMessage(event) {
    let m;
    try {
      m = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof m?.at === 'string') {
      const at = Date.parse(m.at);
      if (Number.isFinite(at) && m.type === 'snapshot') clockSkewMs = at - Date.now();
    }
    const handler = handlers[m?.type];
    if (!handler) return; // newer message types are ignored, not errors
    handler(m);
    scheduleRender(m.callId ?? m.call?.callId ?? m.alert?.callId);
  }

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
      setConn('down', `Disconnected${why} · retrying in ${Math.round(delayMs / 1000) || 1} s`);
      setTimeout(connect, delayMs * (0.8 + Math.random() * 0.4));
      renderAlerts();
    });
  }

  function setConn(state, text) {
    el.conn.dataset.state = state;
    el.conn.textContent = text;
    // While the feed is down the numbers on screen are stale: say so by dimming them.
    document.body.classList.toggle('offline', state === 'down');
  }

  function sendAck(alertId) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      toast('Not connected: the acknowledgement was not sent.');
      return;
    }
    socket.send(JSON.stringify({ type: 'ack', alertId }));
    acking.add(alertId);
    renderAlerts();
  }

  // -------------------------------------------------------------- formatting
  function fmtDuration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }
  // 24-hour times: shorter on a card, and unambiguous across a room.
  const fmtClock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '');
  const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x * 100)) : '–');
  const shortId = (id) => (id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-5)}` : id);
  const agentName = (info) => info.agentId ?? 'no agent';

  function setTierPill(node, tier) {
    node.dataset.tier = String(tier);
    node.textContent = `T${tier} ${TIER_NAMES[tier] ?? ''}`;
  }

  // ------------------------------------------------------------------ charts
  const COLORS = { agitation: '#f4f6fb', anger: '#ff6b81', arousal: '#7aa2f7', tier: '#c89bff' };
  const TIER_FILL = { 1: 'rgba(63,182,139,0.28)', 2: 'rgba(232,181,49,0.30)', 3: 'rgba(245,124,43,0.34)', 4: 'rgba(240,56,79,0.40)' };

  function sparkOptions(call, width) {
    return {
      width,
      height: 64,
      cursor: { show: false },
      legend: { show: false },
      select: { show: false },
      scales: {
        x: { time: false, range: (_u, _min, max) => [Math.max(0, max - SPARK_WINDOW_S), Math.max(max, 60)] },
        y: { range: [0, 1] },
      },
      axes: [{ show: false }, { show: false }],
      series: [
        {},
        { label: 'agitation', stroke: COLORS.agitation, width: 2, fill: () => TIER_FILL[call.info.tier] ?? TIER_FILL[1] },
        { label: 'anger', stroke: COLORS.anger, width: 1.25 },
      ],
    };
  }
  const sparkData = (call) => [call.series.t, call.series.agitation, call.series.anger];

  const axisStyle = { stroke: '#9aa6b8', grid: { stroke: 'rgba(255,255,255,0.07)' }, ticks: { stroke: 'rgba(255,255,255,0.12)' } };
  let detailPlot = null;

  function detailOptions(width) {
    return {
      width,
      height: 260,
      scales: { x: { time: false }, y: { range: [0, 1] }, tier: { range: [0.5, 4.5] } },
      axes: [
        // Whole seconds and minutes of call time, so the labels read 0:10, 0:20, … not 0:07.
        { ...axisStyle, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600], values: (_u, splits) => splits.map((s) => fmtDuration(s * 1000)) },
        { ...axisStyle, label: 'score', values: (_u, splits) => splits.map((s) => s.toFixed(1)) },
        { ...axisStyle, scale: 'tier', side: 1, label: 'tier', grid: { show: false }, splits: () => [1, 2, 3, 4], values: (_u, splits) => splits.map((s) => `T${s}`) },
      ],
      series: [
        { label: 'call time', value: (_u, v) => (v == null ? '–' : fmtDuration(v * 1000)) },
        { label: 'agitation', stroke: COLORS.agitation, width: 3, fill: 'rgba(244,246,251,0.08)', spanGaps: true },
        { label: 'window', stroke: 'rgba(244,246,251,0.38)', width: 1, points: { show: false } },
        { label: 'anger', stroke: COLORS.anger, width: 1.5 },
        { label: 'arousal', stroke: COLORS.arousal, width: 1.5, dash: [6, 4] },
        { label: 'tier', scale: 'tier', stroke: COLORS.tier, width: 2, paths: uPlot.paths.stepped({ align: 1 }), value: (_u, v) => (v == null ? '–' : `T${v}`) },
      ],
    };
  }

  // ------------------------------------------------------------------ render
  const dirtyCalls = new Set();
  let renderQueued = false;

  function scheduleRender(callId) {
    if (callId) dirtyCalls.add(callId);
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function render() {
    for (const id of dirtyCalls) {
      const call = calls.get(id);
      if (call) renderCard(call);
    }
    dirtyCalls.clear();
    orderCards();
    renderCounts();
    renderAlerts();
    if (openDetailId && calls.has(openDetailId)) renderDetail(calls.get(openDetailId), false);
  }

  function ensureCard(call) {
    if (call.card) return call.card;
    const card = el.callTpl.content.firstElementChild.cloneNode(true);
    card.dataset.callId = call.info.callId;
    card.addEventListener('click', () => openDetail(call.info.callId));
    card.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openDetail(call.info.callId);
      }
    });
    el.calls.append(card);
    call.card = card;
    const spark = card.querySelector('.call-spark');
    call.plot = new uPlot(sparkOptions(call, spark.clientWidth || 300), sparkData(call), spark);
    new ResizeObserver(() => {
      if (call.plot && spark.clientWidth > 0) call.plot.setSize({ width: spark.clientWidth, height: 64 });
    }).observe(spark);
    return card;
  }

  function renderCard(call) {
    const card = ensureCard(call);
    const { info } = call;
    card.dataset.tier = String(info.tier);
    card.classList.toggle('ended', call.endedAtLocal !== null);
    setTierPill(card.querySelector('.tier-pill'), info.tier);
    card.querySelector('.call-agent').textContent = agentName(info);
    card.querySelector('.call-agent').classList.toggle('none', !info.agentId);
    card.querySelector('.call-agitation b').textContent = pct(info.agitation);
    const where = [info.team, info.queue].filter(Boolean).join(' · ');
    card.querySelector('.call-id').textContent = `${shortId(info.callId)}${where ? ` · ${where}` : ''}${info.language ? ` · ${info.language}` : ''}`;
    card.querySelector('.call-id').title = info.callId;
    card.setAttribute('aria-label', `Call ${info.callId}, tier ${info.tier} ${TIER_NAMES[info.tier]}, agent ${agentName(info)}`);
    call.plot.setData(sparkData(call));
    renderTimes(call);
  }

  function renderTimes(call) {
    const card = call.card;
    if (!card) return;
    const inTier = card.querySelector('.call-in-tier');
    const length = card.querySelector('.call-length');
    if (call.endedAtLocal !== null) {
      inTier.innerHTML = '';
      inTier.append(Object.assign(document.createElement('b'), { textContent: 'Ended' }));
      const peak = call.summary?.peakAgitation;
      length.textContent = `${fmtDuration(call.summary?.audioMs ?? call.info.audioMs)} call${peak != null ? ` · peak ${pct(peak)}` : ''}`;
      return;
    }
    inTier.querySelector('b').textContent = fmtDuration(serverNow() - Date.parse(call.info.tierSince));
    length.textContent = `${fmtDuration(call.info.audioMs)} call`;
  }

  /** Tier (highest first), then agitation (highest first); ended calls last. */
  function compareCalls(a, b) {
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
  function orderCards() {
    const sorted = [...calls.values()].filter((c) => c.card).sort(compareCalls);
    const current = [...el.calls.children];
    if (sorted.length === current.length && sorted.every((c, i) => current[i] === c.card)) return;
    const rank = (node) => {
      const c = calls.get(node.dataset.callId);
      return c ? (c.endedAtLocal !== null ? 20 : 10 - c.info.tier) : 99;
    };
    const tiersInOrder = sorted.length === current.length && current.every((node, i) => i === 0 || rank(current[i - 1]) <= rank(node));
    const now = Date.now();
    if (tiersInOrder && now - lastShuffleMs < REORDER_CALM_MS) return;
    lastShuffleMs = now;
    for (const c of sorted) el.calls.append(c.card); // moving keeps each chart's canvas
  }

  function renderCounts() {
    const counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
    let live = 0;
    for (const c of calls.values()) {
      if (c.endedAtLocal !== null) continue;
      live += 1;
      counts[c.info.tier] = (counts[c.info.tier] ?? 0) + 1;
    }
    for (const node of el.tierCounts.children) {
      const n = counts[node.dataset.tier] ?? 0;
      node.querySelector('b').textContent = String(n);
      node.classList.toggle('zero', n === 0);
    }
    el.callsCount.textContent = String(live);
    el.callsEmpty.hidden = calls.size > 0;
  }

  function dropCall(callId) {
    const call = calls.get(callId);
    if (!call) return;
    call.plot?.destroy();
    call.card?.remove();
    calls.delete(callId);
  }

  // ------------------------------------------------------------------ alerts
  const alertNodes = new Map();

  function renderAlerts() {
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
    const online = socket !== null && socket.readyState === WebSocket.OPEN;
    for (const a of list) {
      let node = alertNodes.get(a.alertId);
      if (!node) {
        node = el.alertTpl.content.firstElementChild.cloneNode(true);
        node.dataset.alertId = a.alertId;
        node.dataset.callId = a.callId;
        node.querySelector('.ack').addEventListener('click', () => sendAck(a.alertId));
        node.querySelector('.alert-call').addEventListener('click', () => openDetail(a.callId));
        alertNodes.set(a.alertId, node);
      }
      node.dataset.tier = String(a.tier);
      node.classList.toggle('is-acked', Boolean(a.ackedBy));
      setTierPill(node.querySelector('.tier-pill'), a.tier);
      const agent = a.agentId ?? calls.get(a.callId)?.info.agentId ?? null;
      node.querySelector('.alert-call').textContent = agent ?? 'no agent';
      node.querySelector('.alert-call').title = `Open call ${a.callId}`;
      const time = node.querySelector('.alert-time');
      time.dateTime = a.raisedAt;
      time.textContent = fmtClock(a.raisedAt);
      node.querySelector('.alert-reason').textContent = a.reason;
      node.querySelector('.alert-meta').textContent = `${shortId(a.callId)}${a.audioMs != null ? ` · at ${fmtDuration(a.audioMs)} of the call` : ''}`;
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
    if (list.some((a, i) => el.alerts.children[i] !== alertNodes.get(a.alertId))) {
      for (const a of list) el.alerts.append(alertNodes.get(a.alertId));
    }
    const open = list.filter((a) => !a.ackedBy).length;
    el.alertsOpen.textContent = String(open);
    el.alertsOpen.classList.toggle('zero', open === 0);
    el.alertsEmpty.hidden = list.length > 0;
  }

  // ------------------------------------------------------------------ detail
  /** The REST view of the open call (`GET /v1/calls/:callId`), when this instance has it. */
  let restDetail = null;
  /** True once the REST request for the open call has answered (either way). */
  let restAnswered = false;

  async function openDetail(callId) {
    openDetailId = callId;
    restDetail = null;
    restAnswered = false;
    if (!el.detail.open) el.detail.showModal();
    const call = calls.get(callId);
    if (call) renderDetail(call, true);
    try {
      const res = await fetch(apiUrl(`v1/calls/${encodeURIComponent(callId)}`));
      if (openDetailId !== callId) return;
      restDetail = res.ok ? await res.json() : null;
    } catch {
      restDetail = null;
    }
    if (openDetailId !== callId) return;
    restAnswered = true;
    const current = calls.get(callId) ?? (restDetail ? callFromRest(restDetail) : null);
    if (current) renderDetail(current, true);
    else renderMissing(callId);
  }

  /** A view model for a call the feed no longer lists (ended long ago) but this instance remembers. */
  function callFromRest(d) {
    const call = newCall({ ...d, tierSince: d.endedAt ?? d.startedAt });
    call.endedAtLocal = d.state === 'ended' ? Date.now() : null;
    call.summary = d.state === 'ended' ? { audioMs: d.audioMs } : null;
    return call;
  }

  function renderMissing(callId) {
    $('detail-title').textContent = shortId(callId);
    $('detail-meta').textContent = '';
    $('detail-stats').replaceChildren();
    const note = $('detail-note');
    note.hidden = false;
    note.textContent = 'This call is no longer live and its record is not kept on this server.';
  }

  /**
   * Columns for the detail chart: x, smoothed agitation, window agitation,
   * anger, arousal, tier. The REST timeline has every scored window (raw
   * scores, the whole call); the feed has the smoothed agitation the policy
   * acts on (≈1/s, since this page connected) at the same window ends, so
   * both line up on one x axis. Gaps are null (uPlot skips them).
   */
  function detailSeries(call) {
    const cols = { t: [], smoothed: [], agitation: [], anger: [], arousal: [], tier: [] };
    const changes = tierChangesOf(call);
    const tierAt = (ms) => {
      let tier = changes.length > 0 ? changes[0].from : call.info.tier;
      for (const c of changes) if (c.audioMs <= ms) tier = c.to;
      return tier;
    };
    const s = call.series;
    const smoothedAt = new Map(s.t.map((t, i) => [t, s.agitation[i]]));
    if (restDetail && restDetail.callId === call.info.callId) {
      for (const w of restDetail.timeline ?? []) {
        const t = w.endMs / 1000;
        cols.t.push(t);
        cols.smoothed.push(smoothedAt.get(t) ?? null);
        cols.agitation.push(w.scores.agitation);
        cols.anger.push(w.scores.anger);
        cols.arousal.push(w.scores.arousal);
        cols.tier.push(tierAt(w.endMs));
      }
    }
    const last = cols.t.length > 0 ? cols.t[cols.t.length - 1] : -Infinity;
    for (let i = 0; i < s.t.length; i++) {
      if (s.t[i] <= last) continue;
      cols.t.push(s.t[i]);
      cols.smoothed.push(s.agitation[i]);
      cols.agitation.push(null);
      cols.anger.push(s.anger[i]);
      cols.arousal.push(s.arousal[i]);
      cols.tier.push(s.tier[i]);
    }
    return [cols.t, cols.smoothed, cols.agitation, cols.anger, cols.arousal, cols.tier];
  }

  /** Tier changes from the feed, completed by the REST events (priority) when the feed missed them. */
  function tierChangesOf(call) {
    const byMs = new Map();
    for (const e of restDetail?.callId === call.info.callId ? restDetail.events ?? [] : []) {
      if (e.type === 'priority') byMs.set(e.audioMs, { from: e.previousTier, to: e.tier, audioMs: e.audioMs, reason: e.reason, at: null });
    }
    for (const c of call.tierChanges) byMs.set(c.audioMs, { ...byMs.get(c.audioMs), ...c });
    return [...byMs.values()].sort((a, b) => a.audioMs - b.audioMs);
  }

  /** Prompts from the feed (with agent feedback), completed by REST prompt events. */
  function promptsOf(call) {
    const list = [...call.prompts.values()];
    for (const e of restDetail?.callId === call.info.callId ? restDetail.events ?? [] : []) {
      if (e.type !== 'prompt') continue;
      const id = e.promptId ?? null;
      const known = list.find((p) => (id && p.promptId === id) || (p.scriptId === e.scriptId && (p.audioMs === e.audioMs || p.audioMs == null)));
      if (known) {
        known.audioMs ??= e.audioMs;
        known.action ??= e.ack?.action ?? e.action ?? null;
      } else {
        list.push({ promptId: id, tier: e.tier, text: e.text, scriptId: e.scriptId, audioMs: e.audioMs, action: e.ack?.action ?? e.action ?? null });
      }
    }
    return list.sort((a, b) => (a.audioMs ?? Infinity) - (b.audioMs ?? Infinity));
  }

  function renderDetail(call, fresh) {
    const { info } = call;
    setTierPill($('detail-tier'), info.tier);
    el.detail.dataset.tier = String(info.tier);
    el.detail.dataset.callId = info.callId;
    $('detail-title').textContent = agentName(info);
    $('detail-meta').textContent = `${info.callId}${info.startedAt ? ` · started ${fmtClock(info.startedAt)}` : ''}${call.endedAtLocal !== null ? ' · ended' : ''}`;

    const data = detailSeries(call);
    // Peak of the smoothed agitation this page saw (the call's own figure once it ended).
    const peak = Math.max(info.agitation ?? 0, ...data[1].filter((v) => v != null));
    const prompts = promptsOf(call);
    const changes = tierChangesOf(call);
    const stats = [
      ['agitation', pct(info.agitation)],
      ['peak', pct(call.summary?.peakAgitation ?? peak)],
      [call.endedAtLocal !== null ? 'state' : 'in tier', call.endedAtLocal !== null ? 'ended' : fmtDuration(serverNow() - Date.parse(info.tierSince))],
      ['call', fmtDuration(call.summary?.audioMs ?? info.audioMs ?? 0)],
      ['prompts', String(prompts.length)],
    ];
    $('detail-stats').replaceChildren(
      ...stats.map(([label, value]) => {
        const div = document.createElement('div');
        div.className = 'stat';
        div.append(Object.assign(document.createElement('b'), { textContent: value }), Object.assign(document.createElement('span'), { textContent: label }));
        return div;
      }),
    );

    const chart = $('detail-chart');
    const width = Math.max(300, chart.clientWidth || 800);
    if (fresh || !detailPlot) {
      detailPlot?.destroy();
      chart.replaceChildren();
      detailPlot = new uPlot(detailOptions(width), data, chart);
    } else {
      detailPlot.setData(data);
    }
    const note = $('detail-note');
    const remote = restDetail === null || restDetail.callId !== info.callId;
    note.hidden = !remote || !restAnswered;
    note.textContent = remote ? 'Full history is on another Undertone instance: showing what this screen received from the live feed.' : '';

    $('detail-tiers').replaceChildren(
      ...(changes.length === 0
        ? [emptyItem('No tier change yet.')]
        : changes.map((c) => {
            const li = document.createElement('li');
            li.dataset.tier = String(c.to);
            const head = document.createElement('div');
            head.className = 'tl-head';
            const pill = document.createElement('span');
            pill.className = 'tier-pill';
            setTierPill(pill, c.to);
            head.append(Object.assign(document.createElement('time'), { textContent: fmtDuration(c.audioMs) }), `T${c.from} → `, pill);
            li.append(head, Object.assign(document.createElement('div'), { className: 'tl-body', textContent: c.reason ?? '' }));
            return li;
          })),
    );
    $('detail-prompts').replaceChildren(
      ...(prompts.length === 0
        ? [emptyItem('No prompt sent yet.')]
        : prompts.map((p) => {
            const li = document.createElement('li');
            li.dataset.tier = String(p.tier);
            const head = document.createElement('div');
            head.className = 'tl-head';
            const state = document.createElement('span');
            state.className = `prompt-state ${p.action ?? 'pending'}`;
            state.textContent = p.action === 'used' ? '✓ used' : p.action === 'dismissed' ? 'dismissed' : 'no feedback yet';
            head.append(Object.assign(document.createElement('time'), { textContent: p.audioMs != null ? fmtDuration(p.audioMs) : fmtClock(p.at) }), `T${p.tier} · ${p.scriptId ?? ''}`, state);
            li.append(head, Object.assign(document.createElement('div'), { className: 'tl-body prompt-text', textContent: p.text ?? '' }));
            return li;
          })),
    );
  }

  const emptyItem = (text) => Object.assign(document.createElement('li'), { className: 'tl-empty', textContent: text });

  function closeDetail() {
    openDetailId = null;
    restDetail = null;
    detailPlot?.destroy();
    detailPlot = null;
    if (el.detail.open) el.detail.close();
  }

  $('detail-close').addEventListener('click', closeDetail);
  el.detail.addEventListener('close', () => {
    if (openDetailId !== null) closeDetail();
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  el.detail.addEventListener('click', (e) => {
    if (e.target === el.detail) closeDetail();
  });
  new ResizeObserver(() => {
    const chart = $('detail-chart');
    if (detailPlot && chart.clientWidth > 0) detailPlot.setSize({ width: chart.clientWidth, height: 260 });
  }).observe($('detail-chart'));

  // ------------------------------------------------------------------- misc
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

  function tick() {
    el.clock.textContent = new Date().toLocaleTimeString([], { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    const now = Date.now();
    for (const [id, call] of calls) {
      if (call.endedAtLocal !== null && now - call.endedAtLocal > ENDED_LINGER_MS && openDetailId !== id) dropCall(id);
      else renderTimes(call);
    }
    orderCards();
    renderCounts();
    if (openDetailId && calls.has(openDetailId)) renderDetail(calls.get(openDetailId), false);
  }

  const scope = ['team', 'queue'].map((k) => (pageParams.get(k) ? `${k} ${pageParams.get(k)}` : '')).filter(Boolean);
  el.scope.textContent = scope.join(' · ');
  el.scope.hidden = scope.length === 0;
  tick();
  setInterval(tick, 1000);
  renderCounts();
  renderAlerts();
  connect();
})();
