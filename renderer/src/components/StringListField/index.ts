export { default as StringListField } from './StringListField.svelte';
