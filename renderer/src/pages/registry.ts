/**
 * The page registry. Every page lives in its own folder `pages/<id>/` with a `page.ts` that
 * default-exports its registration (`definePage({...})`); this module collects them with
 * import.meta.glob, so adding a page needs no edit here. The sidebar, the router and the
 * i18n-completeness test read this list.
 */
import type { Component } from 'svelte';
import type { IconName } from '../components/Icon/icons.ts';
import type { InstanceView } from '../api/relay-desk.ts';

/** Sidebar groups of an instance's pages, in display order. */
export const PAGE_GROUPS = ['overview', 'mailDelivery', 'operations', 'administration'] as const;
/** A sidebar group (its title is `shell.group.<group>`). */
export type PageGroup = (typeof PAGE_GROUPS)[number];

/** Props every instance page receives. */
export interface InstancePageProps {
  /** The instance the page shows. */
  instanceId: string;
  /** The sub-tab from the URL (`#/i/<id>/<page>/<tab>`), if any. */
  tab: string | undefined;
}

/** A page of one instance (Dashboard, Mail Delivery › General, Queue, …). */
export interface InstancePage {
  readonly scope: 'instance';
  /** URL id, unique: `mail-general`, `queue`, … */
  readonly id: string;
  /** i18n key of the title (`<area>.…`). */
  readonly titleKey: string;
  readonly icon: IconName;
  readonly group: PageGroup;
  /** Position within the group (see the table in renderer/README.md). */
  readonly order: number;
  readonly component: Component<InstancePageProps>;
  /** The page talks to the relay: the shell shows a "not connected" notice instead while it is not. */
  readonly needsConnection: boolean;
  /** Only for some instances (e.g. remote-only pages); default: all. */
  readonly appliesTo?: (instance: InstanceView) => boolean;
}

/** A page of the app as a whole (Fleet, Add remote relay). */
export interface AppPage {
  readonly scope: 'app';
  readonly id: string;
  readonly titleKey: string;
  readonly icon: IconName;
  readonly order: number;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- app pages take no props
  readonly component: Component<{}>;
  /** Listed at the top of the sidebar (Fleet) or reached only by a button (Add remote relay). */
  readonly inSidebar: boolean;
}

/** One registration. */
export type PageRegistration = InstancePage | AppPage;

/** Identity helper that type-checks a registration in `page.ts`. */
export function definePage<const P extends PageRegistration>(page: P): P {
  return page;
}

/** Order and check registrations: ids must be unique. */
export function collectPages(modules: Readonly<Record<string, { default: PageRegistration }>>): PageRegistration[] {
  const pages = Object.entries(modules).map(([path, mod]) => {
    if (!mod.default || typeof mod.default !== 'object') throw new Error(`${path} must default-export definePage({...})`);
    return mod.default;
  });
  const seen = new Set<string>();
  for (const p of pages) {
    if (seen.has(p.id)) throw new Error(`page id "${p.id}" is registered twice`);
    seen.add(p.id);
  }
  return pages.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
}

/** Every registered page. */
export const pages: readonly PageRegistration[] = collectPages(import.meta.glob<{ default: PageRegistration }>('./*/page.ts', { eager: true }));

/** Instance pages in sidebar order, grouped. */
export function instancePagesByGroup(instance: InstanceView | undefined): Array<{ group: PageGroup; pages: InstancePage[] }> {
  return PAGE_GROUPS.map((group) => ({
    group,
    pages: pages.filter((p): p is InstancePage => p.scope === 'instance' && p.group === group && (!instance || !p.appliesTo || p.appliesTo(instance))),
  })).filter((g) => g.pages.length > 0);
}

export function findInstancePage(id: string): InstancePage | undefined {
  return pages.find((p): p is InstancePage => p.scope === 'instance' && p.id === id);
}

export function findAppPage(id: string): AppPage | undefined {
  return pages.find((p): p is AppPage => p.scope === 'app' && p.id === id);
}

/**
 * Reserved ids and orders, so both UI engineers' pages slot in without editing this file:
 *   overview:       dashboard (10)
 *   mailDelivery:   mail-general (10), mail-delivery (20), mail-relay-control (30), mail-security (40)
 *   operations:     queue (10), logs (20)
 *   administration: users (10), tools (20), connection (90)
 *   app pages:      fleet (10, in sidebar), add-instance (90)
 */
export const DEFAULT_INSTANCE_PAGE = 'dashboard';
/** Fallback when no dashboard is registered yet. */
export const FALLBACK_INSTANCE_PAGE = 'mail-general';
