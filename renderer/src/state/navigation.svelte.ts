/**
 * Where the app is: a small hash router (`#/i/<instance>/<page>[/<tab>]`, `#/app/<page>`), so every
 * screen has a URL that the e2e harness and screenshots can open directly. Pages with unapplied
 * changes register a leave guard; navigating away then asks first (see LeaveDialog in the shell).
 */

/** A screen of the app. */
export type Route =
  | { readonly kind: 'app'; readonly pageId: string }
  | { readonly kind: 'instance'; readonly instanceId: string; readonly pageId: string; readonly tab?: string | undefined };

/** Says whether leaving for `to` would lose work (true = ask first). */
export type LeaveGuard = (to: Route) => boolean;

/** A navigation held back by a guard, waiting for the user's answer. */
export interface PendingLeave {
  readonly to: Route;
  /** Leave anyway (the guard's owner discards its changes in `onDiscard`). */
  readonly confirm: () => void;
  readonly cancel: () => void;
}

export function routeToHash(route: Route): string {
  if (route.kind === 'app') return `#/app/${encodeURIComponent(route.pageId)}`;
  const base = `#/i/${encodeURIComponent(route.instanceId)}/${encodeURIComponent(route.pageId)}`;
  return route.tab ? `${base}/${encodeURIComponent(route.tab)}` : base;
}

export function hashToRoute(hash: string): Route | null {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'app' && parts[1]) return { kind: 'app', pageId: parts[1] };
  if (parts[0] === 'i' && parts[1] && parts[2]) return { kind: 'instance', instanceId: parts[1], pageId: parts[2], tab: parts[3] };
  return null;
}

export function sameRoute(a: Route, b: Route): boolean {
  return routeToHash(a) === routeToHash(b);
}

interface GuardEntry {
  readonly guard: LeaveGuard;
  readonly onDiscard: () => void;
}

export class Navigation {
  #route = $state<Route>({ kind: 'app', pageId: 'fleet' });
  #pending = $state<PendingLeave | null>(null);
  readonly #guards = new Set<GuardEntry>();
  readonly #win: Window | null;

  constructor(options: { initial: Route; window?: Window | null }) {
    this.#win = options.window ?? null;
    const fromHash = this.#win ? hashToRoute(this.#win.location.hash) : null;
    this.#route = fromHash ?? options.initial;
  }

  /** The current screen (reactive). */
  get route(): Route {
    return this.#route;
  }

  /** A navigation waiting for the user to confirm leaving unapplied changes. */
  get pending(): PendingLeave | null {
    return this.#pending;
  }

  /** The instance of the current screen, if any. */
  get instanceId(): string | null {
    return this.#route.kind === 'instance' ? this.#route.instanceId : null;
  }

  href(route: Route): string {
    return routeToHash(route);
  }

  /** Go to `route`, unless a guard objects; then it waits in `pending` for the user's answer. */
  go(route: Route): void {
    if (sameRoute(route, this.#route)) return;
    const blocking = [...this.#guards].filter((g) => g.guard(route));
    if (blocking.length === 0) {
      this.#commit(route);
      return;
    }
    this.#pending = {
      to: route,
      confirm: () => {
        this.#pending = null;
        for (const g of blocking) g.onDiscard();
        this.#commit(route);
      },
      cancel: () => {
        this.#pending = null;
      },
    };
  }

  /** Go to another tab of the current page (never guarded: tabs share the page's changes). */
  setTab(tab: string): void {
    const r = this.#route;
    if (r.kind !== 'instance') return;
    this.#commit({ ...r, tab });
  }

  /**
   * Register a guard while a page has work to lose. `onDiscard` runs when the user chooses to leave
   * anyway. Returns the function that removes the guard.
   */
  addLeaveGuard(guard: LeaveGuard, onDiscard: () => void): () => void {
    const entry: GuardEntry = { guard, onDiscard };
    this.#guards.add(entry);
    return () => this.#guards.delete(entry);
  }

  /** Whether any guard would object to closing the window. */
  hasUnsavedWork(): boolean {
    const away: Route = { kind: 'app', pageId: '__unload__' };
    return [...this.#guards].some((g) => g.guard(away));
  }

  /** Follow the browser's back/forward (hashchange) and warn on closing with unsaved work. */
  listen(): () => void {
    const win = this.#win;
    if (!win) return () => {};
    const onHash = (): void => {
      const to = hashToRoute(win.location.hash);
      if (!to || sameRoute(to, this.#route)) return;
      // Put the hash back until the guards agree; go() then commits (or leaves it pending).
      win.history.replaceState(null, '', routeToHash(this.#route));
      this.go(to);
    };
    const onBeforeUnload = (e: BeforeUnloadEvent): void => {
      if (this.hasUnsavedWork()) e.preventDefault();
    };
    win.addEventListener('hashchange', onHash);
    win.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      win.removeEventListener('hashchange', onHash);
      win.removeEventListener('beforeunload', onBeforeUnload);
    };
  }

  #commit(route: Route): void {
    this.#route = route;
    const hash = routeToHash(route);
    if (this.#win && this.#win.location.hash !== hash) this.#win.history.pushState(null, '', hash);
  }
}
