export { default as Toggle } from './Toggle.svelte';
