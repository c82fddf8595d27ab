// Two projects: fast tests (pure logic in __tests__/unit, mirroring src/, and
// the whole engine in-process with fakes in __tests__/behaviour), and
// end-to-end tests that run the bundled action against the lab swarm
// (lab/lab.sh up). One file at a time by default (the machine has two cores);
// scripts/e2e.mjs runs the e2e files that leave the lab alone side by side,
// then the ones that disturb it (SERIAL there) one at a time.
const tsJest = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
}
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  transform: tsJest
}

export default {
  verbose: true,
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/unit/**/*.test.ts', '<rootDir>/__tests__/behaviour/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts'], slowTestThreshold: 120 }
  ]
}
