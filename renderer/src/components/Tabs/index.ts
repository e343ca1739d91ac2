export { default as Tabs } from './Tabs.svelte';
