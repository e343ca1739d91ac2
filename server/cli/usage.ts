/** Help texts of the `mailrelay` command. */
export const VERSION = '0.1.0';

export const MAIN_USAGE = `mailrelay ${VERSION} — store-and-forward SMTP relay (Relay Desk)

Usage: mailrelay <command> [options]

Commands:
  serve        run the relay in the foreground
  check        validate a config file and list every problem with its key path
  user         manage SMTP AUTH users: user add|remove|passwd|list [NAME]
  ctl          call a control method: ctl METHOD [JSON]   (ctl --help lists the methods)
  dial-stdio   join stdin/stdout to the control socket (used over SSH)

Options for every command:
  --data-dir DIR   data folder (default: $MAILRELAY_DATA_DIR or the per-user data folder)
  --help           show help for the command
  --version        print the version
`;

export const SERVE_USAGE = `Usage: mailrelay serve [--data-dir DIR] [--config FILE]

Runs the relay in the foreground. Without --config it uses DIR/config.json, writing the embedded
default there on first start (SMTP on 127.0.0.1:2525 with STARTTLS, direct MX delivery, relaying
for loopback only). SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the config.
`;

export const CHECK_USAGE = `Usage: mailrelay check [--data-dir DIR] [--config FILE]

Validates a config (default DIR/config.json) and prints every problem with its key path.
Exit status 0 when valid, 1 otherwise.
`;
