/**
 * Genesys AudioHook (protocol version 2) message shapes and their checks.
 *
 * Every text message is `{version:"2", id, type, seq, …, parameters}`;
 * client messages add `serverseq` and `position` (ISO 8601 duration such as
 * `PT12.34S`), server messages add `clientseq`. Only what Undertone reads is
 * typed here; unknown extra fields are allowed (the protocol grows).
 */
import { ProtocolError } from '../shared/errors.js';

export type Json = Record<string, unknown>;

export const AUDIOHOOK_VERSION = '2';

/** The connection probe's conversation id (AudioHook: "null UUID"). */
export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DURATION = /^PT(\d+(?:\.\d+)?)S$/;

export type ClientMessageType = 'open' | 'ping' | 'update' | 'paused' | 'resumed' | 'discarded' | 'error' | 'close';
const CLIENT_TYPES: ReadonlySet<string> = new Set<ClientMessageType>(['open', 'ping', 'update', 'paused', 'resumed', 'discarded', 'error', 'close']);

export interface ClientMessage {
  version: string;
  id: string;
  type: ClientMessageType;
  seq: number;
  serverseq: number;
  /** Position as seconds (parsed from the ISO 8601 duration). */
  positionS: number;
  parameters: Json;
}

/** A channel of an AudioHook media entry: external = the customer, internal = the agent. */
export type MediaChannel = 'external' | 'internal';

export interface MediaEntry {
  type: 'audio';
  format: 'PCMU' | 'L16';
  channels: MediaChannel[];
  rate: 8000;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Malformed: 1007 close code; AudioHook answers it with `disconnect` (reason error). */
export function malformed(message: string): ProtocolError {
  return new ProtocolError('UT_ERR_INVALID_MESSAGE', 1007, message);
}

/** Well-formed but out of protocol: 1008. */
export function outOfProtocol(code: string, message: string): ProtocolError {
  return new ProtocolError(code, 1008, message);
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** `PT12.34S` → 12.34; undefined when not an AudioHook duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value);
  return m ? Number(m[1]) : undefined;
}

/** Seconds → `PT12.34S` (at most 3 decimals, no trailing zeros). */
export function formatDuration(seconds: number): string {
  return `PT${Number(seconds.toFixed(3))}S`;
}

function nonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Checks the common envelope of a client message; throws `ProtocolError` otherwise. */
export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new ProtocolError('UT_ERR_INVALID_JSON', 1007, 'message is not valid JSON');
  }
  if (!isObject(message)) throw malformed('message must be a JSON object');
  const { version, id, type, seq, serverseq, position, parameters } = message;
  if (version !== AUDIOHOOK_VERSION) throw malformed(`unsupported version ${JSON.stringify(version)?.slice(0, 20)} (want "2")`);
  if (!isUuid(id)) throw malformed("'id' must be a UUID");
  if (typeof type !== 'string') throw malformed("'type' must be a string");
  if (!nonNegativeInt(seq) || seq < 1) throw malformed("'seq' must be a positive integer");
  if (!nonNegativeInt(serverseq)) throw malformed("'serverseq' must be a non-negative integer");
  const positionS = parseDuration(position);
  if (positionS === undefined) throw malformed("'position' must be an ISO 8601 duration like PT1.5S");
  if (!isObject(parameters)) throw malformed("'parameters' must be an object");
  if (!CLIENT_TYPES.has(type)) {
    throw outOfProtocol('UT_ERR_UNKNOWN_EVENT', `'${type.slice(0, 40)}' is not an AudioHook client message`);
  }
  return { version, id, type: type as ClientMessageType, seq, serverseq, positionS, parameters };
}

/**
 * Picks the media entry to accept: the first offered audio entry Undertone
 * decodes (PCMU or L16, 8000 Hz, channels a non-empty set of external and
 * internal) that carries the customer (`external`), else the first decodable
 * one at all. Returned exactly as offered (the client checks that).
 */
export function selectMedia(offered: unknown): MediaEntry | undefined {
  if (!Array.isArray(offered)) throw malformed("open: 'media' must be an array");
  const usable: MediaEntry[] = [];
  for (const entry of offered) {
    if (!isObject(entry)) throw malformed('open: every media entry must be an object');
    const { type, format, channels, rate } = entry;
    if (type !== 'audio' || (format !== 'PCMU' && format !== 'L16') || rate !== 8000) continue;
    if (!Array.isArray(channels) || channels.length === 0 || channels.length > 2) continue;
    if (!channels.every((c) => c === 'external' || c === 'internal') || new Set(channels).size !== channels.length) continue;
    usable.push(entry as unknown as MediaEntry);
  }
  return usable.find((m) => m.channels.includes('external')) ?? usable[0];
}

/** Builds one server message (`clientseq` = the last client seq seen). */
export function serverMessage(id: string, type: string, seq: number, clientseq: number, parameters: Json = {}): string {
  return JSON.stringify({ version: AUDIOHOOK_VERSION, id, type, seq, clientseq, parameters });
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The call metadata an `open` carries, as strings: customConfig scalars
 * (agentId excepted: it has a field of its own), the participant (ani,
 * aniName, dnis, participantId; aniName doubles as customerName unless
 * customConfig names one), the language, organization and correlation ids.
 */
export function openMetadata(o: { customConfig: Json; participant: Json; organizationId: string; language: string | undefined; correlationId: string | undefined }): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(o.customConfig)) {
    const s = scalar(value);
    if (s !== undefined && key !== 'agentId') metadata[key] = s;
  }
  for (const [from, to] of [['ani', 'ani'], ['aniName', 'aniName'], ['dnis', 'dnis'], ['id', 'participantId']] as const) {
    const s = scalar(o.participant[from]);
    if (s !== undefined) metadata[to] = s;
  }
  const aniName = metadata['aniName'];
  if (metadata['customerName'] === undefined && aniName !== undefined && aniName !== '') metadata['customerName'] = aniName;
  if (o.language !== undefined) metadata['language'] = o.language;
  metadata['organizationId'] = o.organizationId;
  if (o.correlationId !== undefined) metadata['correlationId'] = o.correlationId;
  return metadata;
}
