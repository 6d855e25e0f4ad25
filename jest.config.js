/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // p-retry and its dependency ship ESM only: ts-jest turns them into CommonJS for jest.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/__tests__/tsconfig.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(p-retry|is-network-error|jose|ky)/)'],
  moduleNameMapper: {
    '^tokenwarden$': '<rootDir>/src/index.ts',
    '^tokenwarden/testing$': '<rootDir>/src/testing/index.ts',
    '^tokenwarden/redis$': '<rootDir>/src/redis/index.ts',
  },
  setupFiles: ['<rootDir>/__tests__/helpers/realm.ts'],
  testSequencer: '<rootDir>/__tests__/helpers/sequencer.js',
  // Half the files mostly wait on sockets and timers: four side by side keep 2 cores busy.
  maxWorkers: 4,
  testTimeout: 30_000,
};
