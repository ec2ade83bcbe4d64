import type { RunningSuite } from '@recsys/platform';
import { appUrlCapability } from '../gateway/src/gateway.config';

/**
 * Announces where every app of this process listens (its bound URL, also on port 0) in the shared
 * LocalDirectory, so the gateway reaches a stage over HTTP at its real port when the stage is not
 * called in process (GATEWAY_IN_PROCESS off, or a capability the stage does not offer).
 */
export function announceAppUrls(suite: RunningSuite): void {
  const local = suite.contexts.values().next().value?.local;
  if (!local) return;
  for (const app of suite.apps) {
    const name = appUrlCapability(app.name);
    local.withdraw(name);
    local.provide(name, app.url);
  }
}
