/** A tab of a settings page and the config sections (key-path prefixes) it edits. */
export interface SettingsTab {
  readonly id: string;
  readonly labelKey: string;
  readonly sections: readonly string[];
}
