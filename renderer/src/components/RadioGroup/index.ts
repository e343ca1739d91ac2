export { default as RadioGroup } from './RadioGroup.svelte';
