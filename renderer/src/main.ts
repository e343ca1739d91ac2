import './theme/theme.css';
import { mount } from 'svelte';
import App from './app/App.svelte';
import { relayDeskFromWindow } from './api/relay-desk.ts';
import { i18n } from './i18n/index.ts';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
document.documentElement.lang = i18n.locale;

try {
  mount(App, { target, props: { api: relayDeskFromWindow() } });
} catch (e) {
  target.textContent = e instanceof Error ? e.message : String(e);
}
