import type { Translation } from '../message-types.ts';
import type en from './shell.en.ts';

export default {
  language: 'Sprache',
  notFound: 'Diese Seite gibt es nicht.',
  unknownInstance: 'Es gibt kein Relay mit der ID „{id}“.',
  sidebar: {
    label: 'Seitenleiste',
    navigation: 'Relays und Seiten',
    relays: 'Relays',
    addRelay: 'Entferntes Relay hinzufügen',
    loadFailed: 'Die Relays konnten nicht geladen werden: {message}',
  },
  group: {
    overview: 'Übersicht',
    mailDelivery: 'Mailübermittlung',
    operations: 'Betrieb',
    administration: 'Verwaltung',
  },
  notConnected: {
    title: '{name} ist nicht verbunden',
    retry: 'Nächster automatischer Versuch um {time}.',
    connect: 'Verbinden',
    reviewKey: 'Hostschlüssel prüfen…',
    settings: 'Verbindungseinstellungen',
  },
  leave: {
    title: 'Nicht übernommene Änderungen',
    body: 'Sie haben Einstellungen auf dieser Seite geändert, aber nicht übernommen. Seite verlassen und Änderungen verwerfen?',
    stay: 'Auf der Seite bleiben',
    discard: 'Verwerfen und verlassen',
  },
} satisfies Translation<typeof en>;
