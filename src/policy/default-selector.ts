import { resolve } from 'node:path';
import { loadPlaybooks } from '../playbooks/playbook-file.js';
import { createScriptSelector } from '../playbooks/select-script.js';
import type { ScriptSelector } from '../playbooks/types.js';
import type { LadderOptions } from './ladder-options.js';

/**
 * The selector over the playbook directory the ladder names (relative to
 * the working directory when no policy file says otherwise), loaded and
 * validated on first use and cached per directory: tests and tools that
 * build a policy without a file still get the shipped playbooks.
 */
const cache = new Map<string, ScriptSelector>();

export function defaultScriptSelector(ladder: LadderOptions): ScriptSelector {
  const dir = resolve(ladder.playbooks.dir);
  const key = `${dir}|${ladder.playbooks.defaultLanguage}`;
  let selector: ScriptSelector | undefined;
  return (request) => {
    selector ??= cache.get(key);
    if (!selector) {
      selector = createScriptSelector(loadPlaybooks(dir), ladder.playbooks.defaultLanguage);
      cache.set(key, selector);
    }
    return selector(request);
  };
}
