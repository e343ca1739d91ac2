/**
 * The main process's own visible strings (menu, tray, dialogs, window title) in every UI language,
 * and which language to use. Pure (no electron import) so it is unit-tested; main passes in the
 * system's languages. Both tables are typed `MainStrings`, so a missing German key is a type error.
 */
import { uiLanguages, type InstanceStatus, type LanguageSetting, type UiLanguage } from '../ipc-contract.ts';

/** Every string the main process shows. */
export interface MainStrings {
  readonly appName: string;
  readonly windowTitle: string;
  readonly startFailed: string;
  readonly menu: {
    readonly about: string;
    readonly services: string;
    readonly hide: string;
    readonly hideOthers: string;
    readonly showAll: string;
    readonly quit: string;
    readonly file: string;
    readonly showWindow: string;
    readonly closeWindow: string;
    readonly edit: string;
    readonly undo: string;
    readonly redo: string;
    readonly cut: string;
    readonly copy: string;
    readonly paste: string;
    readonly pasteAndMatchStyle: string;
    readonly delete: string;
    readonly selectAll: string;
    readonly view: string;
    readonly reload: string;
    readonly toggleDevTools: string;
    readonly resetZoom: string;
    readonly zoomIn: string;
    readonly zoomOut: string;
    readonly toggleFullScreen: string;
    readonly window: string;
    readonly minimize: string;
    readonly zoom: string;
    readonly bringAllToFront: string;
  };
  readonly tray: {
    readonly showWindow: string;
    readonly localRelayRunning: (version: string) => string;
    readonly localRelayState: (status: string) => string;
    readonly keepRunning: string;
    readonly quit: string;
  };
  /** Instance states as the tray shows them (same words as the renderer's `common.status`). */
  readonly status: Readonly<Record<InstanceStatus, string>>;
  readonly unappliedDialog: {
    readonly title: string;
    readonly message: string;
    readonly detail: string;
    readonly discard: string;
    readonly keepEditing: string;
  };
  readonly keyFilePickerTitle: string;
}

const en: MainStrings = {
  appName: 'Relay Desk',
  windowTitle: 'Relay Desk',
  startFailed: 'Relay Desk could not start',
  menu: {
    about: 'About Relay Desk',
    services: 'Services',
    hide: 'Hide Relay Desk',
    hideOthers: 'Hide Others',
    showAll: 'Show All',
    quit: 'Quit Relay Desk',
    file: 'File',
    showWindow: 'Show Relay Desk',
    closeWindow: 'Close Window',
    edit: 'Edit',
    undo: 'Undo',
    redo: 'Redo',
    cut: 'Cut',
    copy: 'Copy',
    paste: 'Paste',
    pasteAndMatchStyle: 'Paste and Match Style',
    delete: 'Delete',
    selectAll: 'Select All',
    view: 'View',
    reload: 'Reload',
    toggleDevTools: 'Toggle Developer Tools',
    resetZoom: 'Actual Size',
    zoomIn: 'Zoom In',
    zoomOut: 'Zoom Out',
    toggleFullScreen: 'Toggle Full Screen',
    window: 'Window',
    minimize: 'Minimize',
    zoom: 'Zoom',
    bringAllToFront: 'Bring All to Front',
  },
  tray: {
    showWindow: 'Show Relay Desk',
    localRelayRunning: (version) => `Local relay: running (${version})`,
    localRelayState: (status) => `Local relay: ${status}`,
    keepRunning: 'Keep local relay running in background',
    quit: 'Quit Relay Desk',
  },
  status: {
    disconnected: 'Disconnected',
    connecting: 'Connecting…',
    connected: 'Connected',
    'auth-failed': 'Authentication failed',
    'host-key-unknown': 'Host key not confirmed',
    'host-key-changed': 'Host key changed',
    'relay-not-installed': 'Relay not installed',
    'relay-stopped': 'Relay stopped',
    'version-mismatch': 'Version mismatch',
    failed: 'Failed to start',
  },
  unappliedDialog: {
    title: 'Unapplied changes',
    message: 'Some settings have changes that were not applied.',
    detail: 'Closing now discards them. Go back and click Apply to keep them.',
    discard: 'Discard changes and close',
    keepEditing: 'Keep editing',
  },
  keyFilePickerTitle: 'Choose a private key',
};

const de: MainStrings = {
  appName: 'Relay Desk',
  windowTitle: 'Relay Desk',
  startFailed: 'Relay Desk konnte nicht starten',
  menu: {
    about: 'Über Relay Desk',
    services: 'Dienste',
    hide: 'Relay Desk ausblenden',
    hideOthers: 'Andere ausblenden',
    showAll: 'Alle einblenden',
    quit: 'Relay Desk beenden',
    file: 'Datei',
    showWindow: 'Relay Desk anzeigen',
    closeWindow: 'Fenster schließen',
    edit: 'Bearbeiten',
    undo: 'Rückgängig',
    redo: 'Wiederholen',
    cut: 'Ausschneiden',
    copy: 'Kopieren',
    paste: 'Einfügen',
    pasteAndMatchStyle: 'Einfügen und Stil anpassen',
    delete: 'Löschen',
    selectAll: 'Alles auswählen',
    view: 'Ansicht',
    reload: 'Neu laden',
    toggleDevTools: 'Entwicklerwerkzeuge ein-/ausblenden',
    resetZoom: 'Originalgröße',
    zoomIn: 'Vergrößern',
    zoomOut: 'Verkleinern',
    toggleFullScreen: 'Vollbild ein/aus',
    window: 'Fenster',
    minimize: 'Minimieren',
    zoom: 'Zoomen',
    bringAllToFront: 'Alle nach vorne bringen',
  },
  tray: {
    showWindow: 'Relay Desk anzeigen',
    localRelayRunning: (version) => `Lokales Relay: läuft (${version})`,
    localRelayState: (status) => `Lokales Relay: ${status}`,
    keepRunning: 'Lokales Relay im Hintergrund weiterlaufen lassen',
    quit: 'Relay Desk beenden',
  },
  status: {
    disconnected: 'Getrennt',
    connecting: 'Verbindung wird hergestellt…',
    connected: 'Verbunden',
    'auth-failed': 'Anmeldung fehlgeschlagen',
    'host-key-unknown': 'Hostschlüssel nicht bestätigt',
    'host-key-changed': 'Hostschlüssel geändert',
    'relay-not-installed': 'Relay nicht installiert',
    'relay-stopped': 'Relay gestoppt',
    'version-mismatch': 'Versionskonflikt',
    failed: 'Start fehlgeschlagen',
  },
  unappliedDialog: {
    title: 'Nicht übernommene Änderungen',
    message: 'Einige Einstellungen wurden geändert, aber nicht übernommen.',
    detail: 'Wenn Sie jetzt schließen, gehen die Änderungen verloren. Gehen Sie zurück und klicken Sie auf „Übernehmen“, um sie zu behalten.',
    discard: 'Änderungen verwerfen und schließen',
    keepEditing: 'Weiter bearbeiten',
  },
  keyFilePickerTitle: 'Privaten Schlüssel auswählen',
};

/** The strings of every UI language. */
export const MAIN_STRINGS: Readonly<Record<UiLanguage, MainStrings>> = { en, de };

/**
 * The language to show: the setting when it names one, else the first of the system's languages
 * (most preferred first, e.g. `de-AT`) that the app ships, else English.
 */
export function resolveUiLanguage(setting: LanguageSetting, systemLanguages: readonly string[]): UiLanguage {
  if (setting !== 'system') return setting;
  for (const lang of systemLanguages) {
    const base = lang.toLowerCase().split(/[-_]/)[0] ?? '';
    if ((uiLanguages as readonly string[]).includes(base)) return base as UiLanguage;
  }
  return 'en';
}
