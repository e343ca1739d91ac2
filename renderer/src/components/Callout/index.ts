export { default as Callout } from './Callout.svelte';
