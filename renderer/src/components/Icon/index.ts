export { default as Icon } from './Icon.svelte';
export { icons, type IconName } from './icons.ts';
