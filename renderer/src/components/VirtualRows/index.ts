export { default as VirtualRows } from './VirtualRows.svelte';
