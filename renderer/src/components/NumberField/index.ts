export { default as NumberField } from './NumberField.svelte';
export { parseNumberText, numberToText } from './number-text.ts';
