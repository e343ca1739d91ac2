export { default as StatusBadge } from './StatusBadge.svelte';
