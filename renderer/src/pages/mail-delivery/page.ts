import { definePage } from '../registry.ts';
import MailDeliveryPage from './MailDeliveryPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'mail-delivery',
  titleKey: 'mail.delivery.title',
  icon: 'send',
  group: 'mailDelivery',
  order: 20,
  component: MailDeliveryPage,
  needsConnection: true,
});
