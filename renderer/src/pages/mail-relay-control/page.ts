import { definePage } from '../registry.ts';
import RelayControlPage from './RelayControlPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'mail-relay-control',
  titleKey: 'mail.relayControl.title',
  icon: 'network',
  group: 'mailDelivery',
  order: 30,
  component: RelayControlPage,
  needsConnection: true,
});
