import type { Translation } from '../message-types.ts';
import type en from './fleet.en.ts';

export default {
  title: 'Alle Relays',
  description: 'Alle Relays mit Zustand, Warteschlange, Verkehr der letzten Stunde und allem, was Aufmerksamkeit braucht.',
  add: 'Entferntes Relay hinzufügen',
  refresh: 'Aktualisieren',
  local: 'dieser Computer',
  tile: {
    relays: 'Relays',
    connected: 'Verbunden',
    ofTotal: '{n} von {total}',
    withAlerts: 'Brauchen Aufmerksamkeit',
    queued: 'Nachrichten in Warteschlangen',
  },
  table: {
    label: 'Relays',
    relay: 'Relay',
    state: 'Zustand',
    active: 'Aktiv',
    deferred: 'Zurückgestellt',
    held: 'Angehalten',
    oldest: 'Älteste Nachricht',
    delivered: 'Zugestellt (1 h)',
    rejected: 'Abgewiesen (1 h)',
    alerts: 'Warnungen',
    empty: 'Warteschlange leer',
  },
  alert: {
    none: 'Alles in Ordnung',
    relayDown: 'Relay ausgefallen',
    authFailed: 'SSH-Anmeldung fehlgeschlagen',
    hostKeyChanged: 'Hostschlüssel geändert',
    hostKeyUnknown: 'Hostschlüssel nicht bestätigt',
    notInstalled: 'Relay nicht installiert',
    versionMismatch: 'Versionen passen nicht',
    oldDeferred: { one: '{count} zurückgestellte Nachricht älter als eine Stunde', other: '{count} zurückgestellte Nachrichten älter als eine Stunde' },
    noFigures: 'Keine Zahlen verfügbar',
  },
  footnote: 'Die Zahlen werden alle 15 Sekunden aktualisiert. Öffnen Sie ein Relay für sein Dashboard.',
} satisfies Translation<typeof en>;
