import { definePage } from '../registry.ts';
import AddInstancePage from './AddInstancePage.svelte';

export default definePage({
  scope: 'app',
  id: 'add-instance',
  titleKey: 'connection.add.title',
  icon: 'plus',
  order: 90,
  component: AddInstancePage,
  inSidebar: false,
});
