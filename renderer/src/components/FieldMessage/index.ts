export { default as FieldMessage } from './FieldMessage.svelte';
