import { definePage } from '../registry.ts';
import UsersPage from './UsersPage.svelte';

export default definePage({
  scope: 'instance',
  id: 'users',
  titleKey: 'users.title',
  icon: 'users',
  group: 'administration',
  order: 10,
  component: UsersPage,
  needsConnection: true,
});
