/** The relay's version, from package.json (inlined by the bundler), for `hello` and `ready`. */
import pkg from '../../package.json' with { type: 'json' };

export const RELAY_VERSION: string = pkg.version;
