/**
 * `GET /v1/supervisor/stream` (WebSocket): the supervisor feed. Contract:
 * docs/supervisor-feed.md; message types: src/delivery/supervisor-messages.ts.
 *
 * On connect the socket starts listening to the feed (every instance's
 * events, through Redis), then sends a `snapshot` of every live call and the
 * alerts to show, then the events that arrived meanwhile and from then on,
 * filtered by `?team=` / `?queue=`. A supervisor acknowledges an alert with
 * `{"type":"ack","alertId"}`: the first ack wins and every supervisor on every
 * instance gets `alert.acked`; a later ack is answered with the existing one.
 * A bad message gets `{"type":"error"}` back; after `MAX_BAD_MESSAGES` in a
 * row the socket is closed with 1008.
 */
import type { WebSocket } from 'ws';
import type { FeedFilter, FeedScope, SupervisorFeed } from '../delivery/supervisor-feed.js';
import { matchesFilter } from '../delivery/supervisor-feed.js';
import type { SupervisorFeedEvent, SupervisorServerMessage } from '../delivery/supervisor-messages.js';
import type { Logger } from '../shared/logger.js';
import { closeReason } from './close-reason.js';

const MAX_BAD_MESSAGES = 10;
const MAX_FILTER_CHARS = 128;
const MAX_SUPERVISOR_ID_CHARS = 128;

export interface SupervisorQuery {
  team?: string;
  queue?: string;
  supervisorId?: string;
}

/**
 * Who acknowledges: the verified token's `sub` when auth is on (a supervisor
 * cannot acknowledge under someone else's name); with `AUTH=off`,
 * `?supervisorId=` or "anonymous".
 */
export function supervisorIdentity(query: SupervisorQuery, principal: { sub: string } | null = null): string {
  const id = principal?.sub ?? query.supervisorId?.trim();
  return id ? id.slice(0, MAX_SUPERVISOR_ID_CHARS) : 'anonymous';
}

const filterValue = (v: string | undefined): string | null => {
  const t = v?.trim();
  return t ? t.slice(0, MAX_FILTER_CHARS) : null;
};

export function handleSupervisorSocket(
  socket: WebSocket,
  query: SupervisorQuery,
  feed: SupervisorFeed,
  logger: Logger,
  principal: { sub: string } | null = null,
): void {
  const filter: FeedFilter = { team: filterValue(query.team), queue: filterValue(query.queue) };
  const by = supervisorIdentity(query, principal);
  const log = logger.child({ supervisorId: by });
  let badInARow = 0;
  // Events that arrive while the snapshot is being read wait here, so none is missed.
  let early: SupervisorFeedEvent[] | undefined = [];

  const send = (msg: SupervisorServerMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(msg));
  };
  const sendError = (message: string): void => send({ type: 'error', at: new Date().toISOString(), message });

  const unlisten = feed.listen((msg: SupervisorFeedEvent, scope: FeedScope) => {
    if (!matchesFilter(filter, scope)) return;
    if (early) early.push(msg);
    else send(msg);
  });
  socket.once('close', unlisten);
  log.info({ filter }, 'supervisor connected');

  void feed
    .ready()
    .then(() => feed.snapshot(filter))
    .then(
      ({ calls, alerts }) => {
        send({ type: 'snapshot', at: new Date().toISOString(), calls, alerts });
        const queued = early ?? [];
        early = undefined;
        for (const msg of queued) send(msg);
      },
      (err: unknown) => {
        log.error({ err }, 'supervisor snapshot failed');
        if (socket.readyState === socket.OPEN) socket.close(1011, closeReason('UT_ERR_SNAPSHOT_FAILED', 'could not read live calls'));
      },
    );

  const bad = (message: string): void => {
    badInARow += 1;
    sendError(message);
    if (badInARow >= MAX_BAD_MESSAGES) {
      log.warn({ badInARow }, 'supervisor socket closed after repeated bad messages');
      socket.close(1008, closeReason('UT_ERR_BAD_SUPERVISOR_MESSAGE', `${badInARow} bad messages in a row`));
    }
  };

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return bad('binary messages are not part of the supervisor protocol');
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return bad('message is not JSON');
    }
    const m = msg as { type?: unknown; alertId?: unknown };
    if (typeof m !== 'object' || m === null || m.type !== 'ack') return bad(`unknown message type ${JSON.stringify(m?.type ?? null)}; expected "ack"`);
    if (typeof m.alertId !== 'string' || m.alertId.length === 0 || m.alertId.length > 600) return bad('ack needs an alertId string');
    const alertId = m.alertId;
    feed.ack(alertId, by).then(
      (res) => {
        if (res.outcome === 'unknown') return bad(`unknown alertId ${JSON.stringify(alertId.slice(0, 200))}`);
        badInARow = 0;
        log.info({ alertId, outcome: res.outcome, ackedBy: res.message.by }, 'alert ack');
        // The first ack reaches this socket through the feed; a late one is answered here.
        if (res.outcome === 'already-acked') send(res.message);
      },
      (err: unknown) => {
        log.error({ err, alertId }, 'alert ack failed');
        sendError('ack failed; try again');
      },
    );
  });
}
