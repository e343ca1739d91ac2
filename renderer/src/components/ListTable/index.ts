export { default as ListTable } from './ListTable.svelte';
