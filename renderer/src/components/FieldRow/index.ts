export { default as FieldRow } from './FieldRow.svelte';
