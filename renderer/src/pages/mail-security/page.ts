import { definePage } from '../registry.ts';
import SecurityPage from './SecurityPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'mail-security',
  titleKey: 'mail.security.title',
  icon: 'shield',
  group: 'mailDelivery',
  order: 40,
  component: SecurityPage,
  needsConnection: true,
});
