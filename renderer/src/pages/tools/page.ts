import { definePage } from '../registry.ts';
import ToolsPage from './ToolsPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'tools',
  titleKey: 'tools.title',
  icon: 'tools',
  group: 'administration',
  order: 20,
  component: ToolsPage,
  needsConnection: true,
});
