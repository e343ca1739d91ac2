// DEV STAND-IN ONLY: installs the fake window.relayDesk, then starts the real renderer.
import { createFakeRelayDesk } from './fake-relay-desk.ts';

const fake = createFakeRelayDesk();
window.relayDesk = fake;
(window as unknown as { relayDeskDev: typeof fake.dev }).relayDeskDev = fake.dev;
await import('../src/main.ts');
