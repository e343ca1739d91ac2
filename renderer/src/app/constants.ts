/** The local relay's fixed id (same value as LOCAL_INSTANCE_ID in electron/ipc-contract.ts, which the renderer may import only as types). */
export const LOCAL_INSTANCE_ID = 'local';
