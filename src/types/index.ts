// Every public type of tokenwarden lives in this folder, so the contract can be read in one place:
// the token and its health, providers, stores, and the manager's options.
export * from './token';
export * from './provider';
export * from './store';
export * from './options';
