import { definePage } from '../registry.ts';
import ConnectionPage from './ConnectionPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'connection',
  titleKey: 'connection.title',
  icon: 'plug',
  group: 'administration',
  order: 90,
  component: ConnectionPage,
  needsConnection: false,
});
