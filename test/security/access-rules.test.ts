import { describe, expect, it } from 'vitest';
import { accessFor } from '../../src/http/auth/access-rules.js';

describe('access rules', () => {
  it('matches exact routes, prefixes and methods; first match wins', () => {
    expect(accessFor('GET', '/healthz')).toEqual({ kind: 'public' });
    expect(accessFor('GET', '/v1/calls/:callId')).toMatchObject({ roles: ['supervisor', 'admin'] });
    expect(accessFor('PUT', '/v1/calls/:callId/agent')).toMatchObject({ roles: ['gateway', 'supervisor', 'admin'] });
    expect(accessFor('GET', '/v1/calls/:callId/agent')).toMatchObject({ roles: ['supervisor', 'admin'] });
    expect(accessFor('GET', '/admin/queues/api/queues')).toMatchObject({ roles: ['admin'] });
    expect(accessFor('GET', '/administrator')).toBeUndefined();
    expect(accessFor('GET', '/v1/agents/:agentId/stream')).toMatchObject({ ownAgentParam: 'agentId' });
  });
});
