import { definePage } from '../registry.ts';
import QueuePage from './QueuePage.svelte';

export default definePage({
  scope: 'instance',
  id: 'queue',
  titleKey: 'queue.title',
  icon: 'queue',
  group: 'operations',
  order: 10,
  component: QueuePage,
  needsConnection: true,
});
