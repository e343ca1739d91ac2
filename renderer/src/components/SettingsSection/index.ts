export { default as SettingsSection } from './SettingsSection.svelte';
