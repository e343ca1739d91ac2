import { definePage } from '../registry.ts';
import FleetPage from './FleetPage.svelte';

export default definePage({
  scope: 'app',
  id: 'fleet',
  titleKey: 'fleet.title',
  icon: 'fleet',
  order: 10,
  component: FleetPage,
  inSidebar: true,
});
