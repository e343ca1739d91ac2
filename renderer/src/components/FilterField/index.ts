export { default as FilterField } from './FilterField.svelte';
