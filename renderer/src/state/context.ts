/**
 * Typed context pairs for the app's shared state. The shell sets them once; pages and components get
 * them. Tests pass `appContextMap(...)` as the `context` option of render().
 */
import { getContext, setContext } from 'svelte';
import type { RelayDeskApi } from '../api/relay-desk.ts';
import type { ConfigEditors } from './config-editor.svelte.ts';
import type { InstancesStore } from './instances.svelte.ts';
import type { Navigation } from './navigation.svelte.ts';

/** Everything the app shares with its pages. */
export interface AppContext {
  readonly api: RelayDeskApi;
  readonly instances: InstancesStore;
  readonly nav: Navigation;
  readonly configEditors: ConfigEditors;
}

const APP_KEY = Symbol('relay-desk.app');

/** Make the app's shared state available to every descendant component. */
export function setAppContext(ctx: AppContext): AppContext {
  return setContext(APP_KEY, ctx);
}

/** The app's shared state (throws outside the shell, which is a bug). */
export function getAppContext(): AppContext {
  const ctx = getContext<AppContext | undefined>(APP_KEY);
  if (!ctx) throw new Error('getAppContext() called outside the app shell (tests: pass appContextMap() as context)');
  return ctx;
}

/** The context map for @testing-library/svelte's `render(Component, { context })`. */
export function appContextMap(ctx: AppContext): Map<symbol, AppContext> {
  return new Map([[APP_KEY, ctx]]);
}
