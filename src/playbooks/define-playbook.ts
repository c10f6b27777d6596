import type { Playbook } from './types.js';

/**
 * Deep-freezes a playbook. Written as a typed call (not a cast) so the
 * compiler checks every script's tier and emotion against the types.
 */
export function definePlaybook(playbook: Playbook): Playbook {
  for (const script of playbook.scripts) Object.freeze(script);
  Object.freeze(playbook.scripts);
  return Object.freeze(playbook);
}
