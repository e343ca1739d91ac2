import { definePage } from '../registry.ts';
import LogsPage from './LogsPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'logs',
  titleKey: 'logs.title',
  icon: 'logs',
  group: 'operations',
  order: 20,
  component: LogsPage,
  needsConnection: true,
});
