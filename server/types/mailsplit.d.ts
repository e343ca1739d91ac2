// Minimal typings for the parts of mailsplit the relay uses (the package ships none).
declare module 'mailsplit' {
  import { Transform } from 'node:stream';
  export class Splitter extends Transform {
    constructor(options?: { ignoreEmbedded?: boolean; maxHeadSize?: number });
  }
  export class Joiner extends Transform {}
}
