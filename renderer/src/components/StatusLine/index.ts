export { default as StatusLine } from './StatusLine.svelte';
