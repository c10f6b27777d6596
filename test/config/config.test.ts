import { describe, expect, it } from 'vitest';
import { autoDspThreads, CONFIG_DEFAULTS, loadConfig, readAudiohookApiKeys } from '../../src/config/config.js';
import { ConfigError } from '../../src/shared/errors.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'info',
      modelPath: 'models/emotion.onnx',
      modelCardPath: 'models/emotion.json',
      routingQueue: 'call-routing',
      maxMessageBytes: 65536,
      maxCalls: 1000,
      callHistory: 200,
      routingWebhookUrl: null,
      routingWebhookSecret: null,
      routingWebhookTimeoutMs: 5000,
      summaryTtlS: 604800,
      policyFile: 'config/policy.yaml',
      auth: true,
      jwtSecret: '',
      twilioAuthToken: '',
      publicUrl: '',
      clientMaxMessageBytes: 4096,
      startTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      connectionsPerIpPerMinute: 6000,
      ingestMaxBytesPerS: 262_144,
      slowConsumerBytes: 1_048_576,
      shutdownGraceMs: 10_000,
      publishJournalPath: '',
      publishBufferEvents: 10_000,
      runWorker: true,
      instanceId: expect.stringMatching(/^.+-\d+$/),
      agentPendingTtlS: 120,
      audiohookApiKeys: {},
      overloadLagMs: 1000,
      overloadEventLoopMs: 1000,
      overloadShed: true,
      redisPrefix: '',
      redisCluster: false,
      dspThreads: autoDspThreads(),
      dspGatherMs: 10,
      gatewayReadPacingMs: 100,
      dspPackCalls: 100,
      dspYoungGenerationMb: 8,
      gcNudgeMs: 0,
      gcNudgeMinKb: 256,
      agentLocalDelivery: true,
    });
    expect(config).toEqual(CONFIG_DEFAULTS);
  });

  it('reads DSP_GATHER_MS: 0-100 ms, default 10', () => {
    expect(loadConfig({}).dspGatherMs).toBe(10);
    expect(loadConfig({ DSP_GATHER_MS: '0' }).dspGatherMs).toBe(0);
    expect(loadConfig({ DSP_GATHER_MS: '20' }).dspGatherMs).toBe(20);
    expect(loadConfig({ DSP_GATHER_MS: '100' }).dspGatherMs).toBe(100);
    expect(problemsOf({ DSP_GATHER_MS: '101' })).toEqual(['DSP_GATHER_MS must be between 0 and 100, got 101']);
    expect(problemsOf({ DSP_GATHER_MS: 'soon' })).toEqual([expect.stringMatching(/^DSP_GATHER_MS must be a whole number/)]);
  });

  it('reads GATEWAY_READ_PACING_MS: 0-200 ms (0: every message read as it arrives), default 100', () => {
    expect(loadConfig({}).gatewayReadPacingMs).toBe(100);
    expect(loadConfig({ GATEWAY_READ_PACING_MS: '0' }).gatewayReadPacingMs).toBe(0);
    expect(problemsOf({ GATEWAY_READ_PACING_MS: '201' })).toEqual(['GATEWAY_READ_PACING_MS must be between 0 and 200, got 201']);
    expect(problemsOf({ GATEWAY_READ_PACING_MS: 'often' })).toEqual([expect.stringMatching(/^GATEWAY_READ_PACING_MS must be a whole number/)]);
  });

  it('reads DSP_PACK_CALLS: 0-100000 calls per DSP thread before the next is used, default 100', () => {
    expect(loadConfig({}).dspPackCalls).toBe(100);
    expect(loadConfig({ DSP_PACK_CALLS: '0' }).dspPackCalls).toBe(0);
    expect(loadConfig({ DSP_PACK_CALLS: '250' }).dspPackCalls).toBe(250);
    expect(problemsOf({ DSP_PACK_CALLS: '-1' })).toEqual(["DSP_PACK_CALLS must be a whole number between 0 and 100000, got '-1'"]);
    expect(problemsOf({ DSP_PACK_CALLS: '100001' })).toEqual(['DSP_PACK_CALLS must be between 0 and 100000, got 100001']);
    expect(problemsOf({ DSP_PACK_CALLS: 'many' })).toEqual([expect.stringMatching(/^DSP_PACK_CALLS must be a whole number/)]);
  });

  it('reads DSP_YOUNG_GENERATION_MB: 0-1024 MB per DSP thread (0 = V8\'s default), default 8', () => {
    expect(loadConfig({}).dspYoungGenerationMb).toBe(8);
    expect(loadConfig({ DSP_YOUNG_GENERATION_MB: '0' }).dspYoungGenerationMb).toBe(0);
    expect(loadConfig({ DSP_YOUNG_GENERATION_MB: '16' }).dspYoungGenerationMb).toBe(16);
    expect(problemsOf({ DSP_YOUNG_GENERATION_MB: '-1' })).toEqual(["DSP_YOUNG_GENERATION_MB must be a whole number between 0 and 1024, got '-1'"]);
    expect(problemsOf({ DSP_YOUNG_GENERATION_MB: '2048' })).toEqual(['DSP_YOUNG_GENERATION_MB must be between 0 and 1024, got 2048']);
  });

  it('reads GC_NUDGE_MS (0-10000 ms between each thread\'s array-buffer checks, default 0 = off) and GC_NUDGE_MIN_KB (0-65536, default 256)', () => {
    expect(loadConfig({}).gcNudgeMs).toBe(0);
    expect(loadConfig({ GC_NUDGE_MS: '100' }).gcNudgeMs).toBe(100);
    expect(loadConfig({ GC_NUDGE_MS: '0' }).gcNudgeMs).toBe(0);
    expect(loadConfig({ GC_NUDGE_MS: '250' }).gcNudgeMs).toBe(250);
    expect(problemsOf({ GC_NUDGE_MS: '-5' })).toEqual(["GC_NUDGE_MS must be a whole number between 0 and 10000, got '-5'"]);
    expect(problemsOf({ GC_NUDGE_MS: '20000' })).toEqual(['GC_NUDGE_MS must be between 0 and 10000, got 20000']);
    expect(loadConfig({ GC_NUDGE_MIN_KB: '0' }).gcNudgeMinKb).toBe(0);
    expect(problemsOf({ GC_NUDGE_MIN_KB: '70000' })).toEqual(['GC_NUDGE_MIN_KB must be between 0 and 65536, got 70000']);
  });

  it('reads DSP_THREADS: auto = one per core up to two, then every core but one; 0 = inline; refuses anything else', () => {
    expect(autoDspThreads(1)).toBe(1);
    expect(autoDspThreads(2)).toBe(2);
    expect(autoDspThreads(3)).toBe(2);
    expect(autoDspThreads(8)).toBe(7);
    expect(loadConfig({ DSP_THREADS: 'auto' }).dspThreads).toBe(autoDspThreads());
    expect(loadConfig({ DSP_THREADS: '0' }).dspThreads).toBe(0);
    expect(loadConfig({ DSP_THREADS: '3' }).dspThreads).toBe(3);
    for (const bad of ['-1', '65', 'two', '1.5']) {
      expect(problemsOf({ DSP_THREADS: bad })).toEqual([`DSP_THREADS must be 'auto' or a whole number between 0 and 64, got '${bad}'`]);
    }
  });

  it('reads the routing webhook and summary retention, and refuses an unsigned or half-set webhook', () => {
    expect(
      loadConfig({ ROUTING_WEBHOOK_URL: 'https://acd.example/hook', ROUTING_WEBHOOK_SECRET: 'a-secret-of-16-chars', ROUTING_WEBHOOK_TIMEOUT_MS: '800', SUMMARY_TTL_S: '3600' }),
    ).toMatchObject({ routingWebhookUrl: 'https://acd.example/hook', routingWebhookSecret: 'a-secret-of-16-chars', routingWebhookTimeoutMs: 800, summaryTtlS: 3600 });
    expect(problemsOf({ ROUTING_WEBHOOK_URL: 'https://acd.example/hook' })).toEqual(['ROUTING_WEBHOOK_SECRET must be set when ROUTING_WEBHOOK_URL is']);
    expect(problemsOf({ ROUTING_WEBHOOK_URL: 'ftp://x', ROUTING_WEBHOOK_SECRET: 'short', SUMMARY_TTL_S: '5' })).toEqual([
      "ROUTING_WEBHOOK_URL must use http:// or https://, got 'ftp://x'",
      'SUMMARY_TTL_S must be between 60 and 31622400, got 5',
      'ROUTING_WEBHOOK_SECRET must be at least 16 characters',
    ]);
    expect(problemsOf({ ROUTING_WEBHOOK_SECRET: 'a-secret-of-16-chars' })).toEqual(['ROUTING_WEBHOOK_SECRET is set but ROUTING_WEBHOOK_URL is not']);
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '  ', LOG_LEVEL: '' }).port).toBe(8080);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
      LOG_LEVEL: 'debug',
      MODEL_PATH: '/m/e.onnx',
      MODEL_CARD_PATH: '/m/e.json',
      ROUTING_QUEUE: 'routing-test.1',
      MAX_MESSAGE_BYTES: '4096',
      MAX_CALLS: '3',
      CALL_HISTORY: '0',
      RUN_WORKER: 'false',
      INSTANCE_ID: 'eu-1.b',
      AGENT_PENDING_TTL_S: '30',
      POLICY_FILE: '/etc/undertone/policy.json',
    });
    expect(config).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      redisUrl: 'rediss://user:pw@redis.example:6380/2',
      logLevel: 'debug',
      modelPath: '/m/e.onnx',
      modelCardPath: '/m/e.json',
      routingQueue: 'routing-test.1',
      maxMessageBytes: 4096,
      maxCalls: 3,
      callHistory: 0,
      runWorker: false,
      instanceId: 'eu-1.b',
      agentPendingTtlS: 30,
      policyFile: '/etc/undertone/policy.json',
    });
  });

  it('reads the overload limits; 0 turns a check off', () => {
    expect(loadConfig({ OVERLOAD_LAG_MS: '250', OVERLOAD_EVENT_LOOP_MS: '0' })).toMatchObject({ overloadLagMs: 250, overloadEventLoopMs: 0 });
    expect(loadConfig({ OVERLOAD_SHED: 'false' })).toMatchObject({ overloadShed: false });
  });

  it('reads AGENT_LOCAL_DELIVERY, and lists a value that is not a boolean', () => {
    expect(loadConfig({ AGENT_LOCAL_DELIVERY: 'false' })).toMatchObject({ agentLocalDelivery: false });
    expect(() => loadConfig({ AGENT_LOCAL_DELIVERY: 'sometimes' })).toThrow(/AGENT_LOCAL_DELIVERY/);
  });

  it('reads REDIS_PREFIX: a plain prefix or one with a Redis Cluster hash tag', () => {
    expect(loadConfig({ REDIS_PREFIX: '{undertone}' }).redisPrefix).toBe('{undertone}');
    expect(loadConfig({ REDIS_PREFIX: 'site-a:{ut-eu}' }).redisPrefix).toBe('site-a:{ut-eu}');
    expect(loadConfig({ REDIS_PREFIX: 'staging' }).redisPrefix).toBe('staging');
  });

  it('reads REDIS_CLUSTER, which needs a hash-tag REDIS_PREFIX', () => {
    expect(loadConfig({ REDIS_CLUSTER: 'true', REDIS_PREFIX: '{undertone}' })).toMatchObject({ redisCluster: true, redisPrefix: '{undertone}' });
    expect(problemsOf({ REDIS_CLUSTER: 'true' })).toEqual([expect.stringMatching(/REDIS_PREFIX must contain a hash tag .* when REDIS_CLUSTER is true/)]);
    expect(problemsOf({ REDIS_CLUSTER: 'true', REDIS_PREFIX: 'plain' })).toHaveLength(1);
    expect(problemsOf({ REDIS_CLUSTER: 'maybe' })).toEqual([expect.stringMatching(/REDIS_CLUSTER must be true or false/)]);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it.each([
    ['PORT', 'http', /PORT must be a whole number/],
    ['PORT', '65536', /PORT must be between 0 and 65535/],
    ['PORT', '-1', /PORT must be a whole number/],
    ['PORT', '80.5', /PORT must be a whole number/],
    ['HOST', 'http://x', /HOST must be a host name/],
    ['REDIS_URL', 'not a url', /REDIS_URL must be a URL/],
    ['REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL must use redis:\/\/ or rediss:\/\//],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['ROUTING_QUEUE', 'a:b', /ROUTING_QUEUE must be 1-100 characters/],
    ['MAX_MESSAGE_BYTES', '100', /MAX_MESSAGE_BYTES must be between 1024/],
    ['MAX_MESSAGE_BYTES', '64k', /MAX_MESSAGE_BYTES must be a whole number/],
    ['MAX_CALLS', '0', /MAX_CALLS must be between 1/],
    ['CALL_HISTORY', 'many', /CALL_HISTORY must be a whole number/],
    ['RUN_WORKER', 'maybe', /RUN_WORKER must be true or false/],
    ['INSTANCE_ID', 'a b', /INSTANCE_ID must be 1-100 characters/],
    ['AGENT_PENDING_TTL_S', '0', /AGENT_PENDING_TTL_S must be between 1/],
    ['POLICY_FILE', 'policy.txt', /POLICY_FILE must name a \.yaml, \.yml or \.json file/],
    ['OVERLOAD_LAG_MS', '1s', /OVERLOAD_LAG_MS must be a whole number/],
    ['OVERLOAD_EVENT_LOOP_MS', '600001', /OVERLOAD_EVENT_LOOP_MS must be between 0 and 600000/],
    ['REDIS_PREFIX', 'has space', /REDIS_PREFIX must be 1-64 characters/],
    ['REDIS_PREFIX', '{undertone}:', /REDIS_PREFIX must not end with ':'/],
    ['REDIS_PREFIX', '{undertone', /REDIS_PREFIX has a \{ without a closing \}/],
    ['REDIS_PREFIX', 'ut{}', /REDIS_PREFIX has a \{ without a closing \}/],
  ])('rejects %s=%s', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).toContain(value);
  });

  it('reads the reliability and security variables', () => {
    const config = loadConfig({
      AUTH: 'off',
      JWT_SECRET: 'x'.repeat(32),
      TWILIO_AUTH_TOKEN: 'tw-token',
      PUBLIC_URL: 'wss://undertone.example.com/',
      START_TIMEOUT_MS: '5000',
      IDLE_TIMEOUT_MS: '0',
      SHUTDOWN_GRACE_MS: '3000',
      PUBLISH_JOURNAL_PATH: '/var/lib/undertone/journal.ndjson',
    });
    expect(config).toMatchObject({
      auth: false,
      jwtSecret: 'x'.repeat(32),
      twilioAuthToken: 'tw-token',
      publicUrl: 'wss://undertone.example.com',
      startTimeoutMs: 5000,
      idleTimeoutMs: 0,
      shutdownGraceMs: 3000,
      publishJournalPath: '/var/lib/undertone/journal.ndjson',
    });
  });

  it('rejects a short JWT_SECRET without echoing it, and AUTH other than on/off', () => {
    const problems = problemsOf({ JWT_SECRET: 'short-secret', AUTH: 'maybe', PUBLIC_URL: 'wss://h/path' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.join('\n')).toMatch(/JWT_SECRET must be at least 32 characters/);
  });

  it('reads AUDIOHOOK_API_KEYS as api key → base64 secret, "" allowing unsigned', () => {
    const config = loadConfig({ AUDIOHOOK_API_KEYS: '{"key-1":"c2VjcmV0","open":""}' });
    expect(config.audiohookApiKeys).toEqual({ 'key-1': 'c2VjcmV0', open: '' });
    expect(Object.isFrozen(config.audiohookApiKeys)).toBe(true);
  });

  it.each([
    ['not json', /AUDIOHOOK_API_KEYS must be a JSON object/],
    ['["a"]', /AUDIOHOOK_API_KEYS must be a JSON object/],
    ['{"k":"not base64!"}', /client secret of 'k' must be a base64 string/],
    ['{"k":7}', /client secret of 'k' must be a base64 string/],
    ['{"bad key":"c2VjcmV0"}', /api key 'bad key' must be 1-256 characters/],
  ])('rejects AUDIOHOOK_API_KEYS=%s without echoing secrets', (value, message) => {
    const problems = problemsOf({ AUDIOHOOK_API_KEYS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).not.toContain('not base64!');
  });

  it('reads AUDIOHOOK_API_KEYS alone, as start-up does, for a tool that signs as Genesys (readAudiohookApiKeys)', () => {
    expect(readAudiohookApiKeys({ AUDIOHOOK_API_KEYS: '{"key-1":"c2VjcmV0"}', PORT: 'not a port' })).toEqual({ 'key-1': 'c2VjcmV0' });
    expect(readAudiohookApiKeys({})).toEqual({});
    expect(() => readAudiohookApiKeys({ AUDIOHOOK_API_KEYS: '{"k":"not base64!"}' })).toThrow(ConfigError);
  });

  it('lists every problem at once, in one ConfigError', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', REDIS_URL: 'nope', MAX_CALLS: '0', CALL_HISTORY: '-3' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.code).toBe('UT_ERR_CONFIG');
    expect(e.problems).toHaveLength(5);
    for (const name of ['PORT', 'LOG_LEVEL', 'REDIS_URL', 'MAX_CALLS', 'CALL_HISTORY']) {
      expect(e.problems.some((p) => p.startsWith(name))).toBe(true);
      expect(e.message).toContain(name);
    }
  });

  it('reads process.env by default', () => {
    const saved = process.env['MAX_CALLS'];
    process.env['MAX_CALLS'] = '17';
    try {
      expect(loadConfig().maxCalls).toBe(17);
    } finally {
      if (saved === undefined) delete process.env['MAX_CALLS'];
      else process.env['MAX_CALLS'] = saved;
    }
  });
});
