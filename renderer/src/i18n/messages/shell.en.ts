import type { MessageTree } from '../message-types.ts';

/** The app shell: sidebar, navigation, page frame, leave warning. */
export default {
  language: 'Language',
  notFound: 'This page does not exist.',
  unknownInstance: 'There is no relay with the id “{id}”.',
  sidebar: {
    label: 'Sidebar',
    navigation: 'Relays and pages',
    relays: 'Relays',
    addRelay: 'Add remote relay',
    loadFailed: 'Could not load the relays: {message}',
  },
  group: {
    overview: 'Overview',
    mailDelivery: 'Mail Delivery',
    operations: 'Operations',
    administration: 'Administration',
  },
  notConnected: {
    title: '{name} is not connected',
    retry: 'Next automatic attempt at {time}.',
    connect: 'Connect',
    reviewKey: 'Review host key…',
    settings: 'Connection settings',
  },
  leave: {
    title: 'Unapplied changes',
    body: 'You changed settings on this page but did not apply them. Leave the page and discard the changes?',
    stay: 'Stay on page',
    discard: 'Discard and leave',
  },
} satisfies MessageTree;
