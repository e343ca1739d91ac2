import { definePage } from '../registry.ts';
import MailGeneralPage from './MailGeneralPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'mail-general',
  titleKey: 'mail.general.title',
  icon: 'mail',
  group: 'mailDelivery',
  order: 10,
  component: MailGeneralPage,
  needsConnection: true,
});
