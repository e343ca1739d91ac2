import { definePage } from '../registry.ts';
import DashboardPage from './DashboardPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'dashboard',
  titleKey: 'dashboard.title',
  icon: 'dashboard',
  group: 'overview',
  order: 10,
  component: DashboardPage,
  needsConnection: true,
});
