/**
 * Lua scripts on the agent inboxes. Each runs atomically in Redis, so the
 * order and de-duplication checks cannot race between workers or instances.
 * Stream entry ids (`<ms>-<n>`) are compared as numbers, never as strings.
 */

/** Compares two stream ids inside Lua: -1, 0, 1. */
const CMP_IDS = `
local function cmp(a, b)
  local am, an = string.match(a, '^(%d+)-(%d+)$')
  local bm, bn = string.match(b, '^(%d+)-(%d+)$')
  am, an, bm, bn = tonumber(am), tonumber(an), tonumber(bm), tonumber(bn)
  if am ~= bm then return am < bm and -1 or 1 end
  if an ~= bn then return an < bn and -1 or 1 end
  return 0
end
`;

/**
 * Post one message to an agent's inbox, unless it is a duplicate or stale.
 * KEYS: inbox, call order hash, call handled bitmap.
 * ARGV: message JSON, type, seq, tier, inbox TTL ms, inbox max length, order TTL ms, agent channel.
 * Returns {outcome, detail}: {'posted', entryId} | {'duplicate', ''} | {'stale', reason}.
 *
 * Rules, per call + stream (seq is shared by prompts and priority changes):
 * - a message whose seq was already posted is a duplicate (a retried or
 *   re-run job): dropped, so each reaches the agent once;
 * - a prompt older than a prompt already posted is stale (prompts reach the
 *   agent in call order; BullMQ runs higher tiers first, so a tier-2 script
 *   can lose the race to a newer tier-3 one and is then superseded);
 * - a prompt for a tier the call has since left downwards (a newer priority
 *   change to a lower tier was applied) is stale: the caller calmed down;
 * - priority changes reach here in seq order already (PriorityGuard); the
 *   seq check only protects against duplicates and a lost lock.
 */
export const POST_SCRIPT = `
local seq = tonumber(ARGV[3])
local tier = tonumber(ARGV[4])
redis.call('SETBIT', KEYS[3], seq, 1)
redis.call('PEXPIRE', KEYS[3], ARGV[7])
if ARGV[2] == 'prompt' then
  local last = tonumber(redis.call('HGET', KEYS[2], 'promptSeq') or '0')
  if seq == last then return {'duplicate', ''} end
  if seq < last then return {'stale', 'a newer prompt of this call was already sent'} end
  local pseq = tonumber(redis.call('HGET', KEYS[2], 'prioritySeq') or '0')
  local ptier = tonumber(redis.call('HGET', KEYS[2], 'priorityTier') or '0')
  if pseq > seq and ptier < tier then return {'stale', 'the call went down to tier ' .. ptier .. ' since'} end
  redis.call('HSET', KEYS[2], 'promptSeq', seq)
else
  local last = tonumber(redis.call('HGET', KEYS[2], 'priorityPosted') or '0')
  if seq == last then return {'duplicate', ''} end
  if seq < last then return {'stale', 'a newer priority change of this call was already sent'} end
  redis.call('HSET', KEYS[2], 'priorityPosted', seq)
end
redis.call('PEXPIRE', KEYS[2], ARGV[7])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[8], id)
return {'posted', id}
`;

/**
 * Read inbox entries after a position, never older than the TTL (Redis's
 * own clock, so instance clocks do not matter).
 * KEYS: inbox, cursor. ARGV: from id ('' = the agent's cursor), TTL ms, max count.
 * Returns a flat list: the (exclusive) start used, then id1, json1, id2, json2, …
 */
export const READ_SCRIPT = `${CMP_IDS}
local t = redis.call('TIME')
local floorMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
local floor = string.format('%d', floorMs) .. '-0'
local from = ARGV[1]
if from == '' then from = redis.call('GET', KEYS[2]) or floor end
if cmp(from, floor) < 0 then from = floor end
local entries = redis.call('XRANGE', KEYS[1], '(' .. from, '+', 'COUNT', ARGV[3])
local out = {from}
for _, e in ipairs(entries) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2][2]
end
return out
`;

/**
 * Move the agent's cursor forward (never back).
 * KEYS: cursor. ARGV: entry id, TTL ms.
 */
export const ADVANCE_SCRIPT = `${CMP_IDS}
local cur = redis.call('GET', KEYS[1])
if cur == false or cmp(ARGV[1], cur) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/**
 * Mark one event of a call + stream handled, and/or read the lowest seq not
 * handled yet. KEYS: handled bitmap. ARGV: seq to mark (0 = none), TTL ms.
 * Bit 0 is always set (seqs start at 1), so BITPOS finds the first gap.
 */
export const HANDLED_SCRIPT = `
redis.call('SETBIT', KEYS[1], 0, 1)
if tonumber(ARGV[1]) > 0 then redis.call('SETBIT', KEYS[1], tonumber(ARGV[1]), 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('BITPOS', KEYS[1], 0)
`;
